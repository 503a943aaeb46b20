#!/usr/bin/env bash
# CPU decoding of the embedded student, ours against llama.cpp on the same GGUF file in the same
# run: greedy, 64 new tokens after the same ChatML prompt, 2 threads, at batch 1 and batch 8
# (llama.cpp through llama-cpp-python, installed from PyPI and built here when missing: ~10 min on
# 2 cores; batch 8 through its low-level API: 8 sequences in one llama_batch per step).
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

# Batch 8: the same prompt in 8 sequences of one context, greedy on the host, 64 tokens each.
import numpy as np
import llama_cpp as L
tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
rows, new = 8, 64
model = L.llama_model_load_from_file(sys.argv[1].encode(), L.llama_model_default_params())
params = L.llama_context_default_params()
params.n_ctx = rows * (len(tokens) + new + 16)
params.n_batch = params.n_ubatch = max(512, rows * len(tokens))
params.n_seq_max, params.n_threads, params.n_threads_batch = rows, 2, 2
ctx = L.llama_init_from_model(model, params)
n_vocab = L.llama_vocab_n_tokens(L.llama_model_get_vocab(model))
batch = L.llama_batch_init(params.n_batch, 0, rows)

def decode(entries):
    batch.n_tokens = len(entries)
    for i, (token, pos, seq, logits) in enumerate(entries):
        batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = token, pos, 1, logits
        batch.seq_id[i][0] = seq
    if L.llama_decode(ctx, batch) != 0:
        sys.exit("llama_decode failed")

def greedy(index):
    return int(np.argmax(np.ctypeslib.as_array(L.llama_get_logits_ith(ctx, index), (n_vocab,))))

prefill, decode_rates = [], []
for _ in range(3):
    L.llama_memory_clear(L.llama_get_memory(ctx), True)
    start = time.perf_counter()
    decode([(t, p, s, p == len(tokens) - 1) for s in range(rows) for p, t in enumerate(tokens)])
    last = [s * len(tokens) + len(tokens) - 1 for s in range(rows)]
    following = [greedy(i) for i in last]
    first = time.perf_counter() - start
    for step in range(new - 1):
        decode([(following[s], len(tokens) + step, s, True) for s in range(rows)])
        following = [greedy(i) for i in range(rows)]
    total = time.perf_counter() - start
    prefill.append(rows * len(tokens) / first)
    decode_rates.append(rows * (new - 1) / (total - first))
print(f"batch {rows}: prefill {statistics.median(prefill):.1f} tok/s, "
      f"decode {statistics.median(decode_rates):.1f} tok/s (total over the batch), median of 3")
PY
