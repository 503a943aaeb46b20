#!/usr/bin/env bash
# CPU decoding of the embedded student, ours against llama.cpp on the same GGUF file in the same
# run: greedy, 64 new tokens after the same ChatML prompt, 2 threads, batch 1 (llama.cpp through
# llama-cpp-python, installed from PyPI and built here when missing: ~10 min on 2 cores).
# Our batch-8 figure is printed too; llama-cpp-python's API has no batched decoding.
# Usage: scripts/bench-cpu-decode.sh
set -euo pipefail
cd "$(dirname "$0")/.."
model=$(scripts/fetch-model.sh | tail -1)
if ! python3 -c "import llama_cpp" 2>/dev/null; then
    echo "installing llama-cpp-python (builds llama.cpp from source)"
    CMAKE_BUILD_PARALLEL_LEVEL=2 python3 -m pip install --quiet llama-cpp-python==0.3.36
fi
CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" cargo build --release --quiet --example bench_decode
echo "== srl (f32, dequantized) =="
./target/release/examples/bench_decode "$model"
echo "== llama.cpp $(python3 -c 'import llama_cpp; print(llama_cpp.__version__)') (${model##*/} as shipped) =="
python3 - "$model" <<'PY'
import statistics, sys, time
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_threads=2, n_threads_batch=2, n_ctx=512, verbose=False)
prompt = "<|im_start|>user\nWrite a short story about a robot who learns to paint.<|im_end|>\n<|im_start|>assistant\n"
n_prompt = len(llm.tokenize(prompt.encode(), add_bos=False, special=True))
prefill, decode = [], []
for _ in range(3):
    llm.reset()
    start = time.perf_counter()
    llm.create_completion(prompt, max_tokens=1, temperature=0.0)
    first = time.perf_counter() - start
    llm.reset()
    start = time.perf_counter()
    out = llm.create_completion(prompt, max_tokens=64, temperature=0.0)
    total = time.perf_counter() - start
    generated = out["usage"]["completion_tokens"]
    prefill.append(n_prompt / first)
    decode.append((generated - 1) / max(total - first, 1e-9))
print(f"batch 1: prompt {n_prompt} tokens, prefill {statistics.median(prefill):.1f} tok/s, "
      f"decode {statistics.median(decode):.1f} tok/s, median of 3")
PY
