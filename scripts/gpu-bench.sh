#!/usr/bin/env bash
# The student on a GPU next to the PyTorch references, all in one call on one card.
#
#   scripts/gpu-bench.sh build   # here, no GPU needed: the CUDA flavour of examples/gpu_bench.rs
#                                # and of srl (recipe: shared/recipes/cuda.md), xz'd into
#                                # target/gpu-bench/ with the anchors and a small training setup
#   scripts/gpu-bench.sh run     # on the GPU machine, from the repository root, with
#                                # target/gpu-bench/ carried there; results go to $OUT (or
#                                # target/gpu-bench/out)
#
# `run` does, within BUDGET seconds (default 560):
#   1. gpu_bench: device-vs-CPU agreement, then the SmolLM2-135M and Qwen2.5-0.5B shapes
#      (random weights): the GRPO training step on 4 x 1024 tokens with and without activation
#      recomputation, and sampling 512 + 128 tokens at batch 8 and 64, in bf16 and f32;
#   2. shared/bench/anchor_torch.py and anchor_torch2.py (PyTorch eager, fused AdamW,
#      torch.compile, HF generate), as far as the budget allows;
#   3. `srl train` with device = "cuda", precision = "bf16" end to end (SFT then SRL, 2 + 2
#      steps) on a SmolLM2-shaped model that transformers writes with random weights, then
#      transformers loads the checkpoint srl wrote;
#   4. one table of the figures side by side.
# SKIP="anchor2 train" leaves out anchor_torch2.py and the training run (a quick rerun).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=target/gpu-bench

build() {
    if [ -z "${CUDA_HOME:-}" ]; then
        CUDA_HOME=$(bash ../shared/recipes/make-cuda-toolchain.sh /tmp/cudatk | tail -1)
    fi
    export CUDA_HOME PATH="$CUDA_HOME/bin:$PATH" LIBRARY_PATH="$CUDA_HOME/lib:$CUDA_HOME/lib/stubs" \
        CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}" CUDARC_CUDA_VERSION=13000 CUDAFORGE_THREADS=2 \
        CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
    cargo build --release --features cuda --target-dir target/cuda --bin srl --example gpu_bench
    rm -rf "$DIR" && mkdir -p "$DIR"
    for bin in target/cuda/release/srl target/cuda/release/examples/gpu_bench; do
        strip -o "$DIR/$(basename "$bin")" "$bin"
        xz -T2 -6 "$DIR/$(basename "$bin")"
    done
    cp ../shared/bench/anchor_torch.py ../shared/bench/anchor_torch2.py "$DIR/"
    # The training smoke run: step instances of the shipped tasks and the embedded model's
    # tokenizer (the weights are written on the GPU machine: 540 MB do not travel).
    [ -f models/SmolLM2-135M-Instruct.Q4_1.gguf ] || scripts/fetch-model.sh
    cargo build --release --quiet --bin srl --example gpu_bench
    local srl=target/release/srl work
    work=$(mktemp -d)
    "$srl" import tasks/*/trajectory.jsonl -o "$work/trajectories.jsonl" >/dev/null
    "$srl" steps "$work/trajectories.jsonl" -o "$DIR/steps.jsonl" --context-rounds 1 \
        --max-observation-chars 300 >/dev/null
    target/release/examples/gpu_bench export-tokenizer models/SmolLM2-135M-Instruct.Q4_1.gguf "$DIR/tokenizer"
    rm -rf "$work"
    du -sh "$DIR"
}

run() {
    local out="${OUT:-$DIR/out}" deadline=$((SECONDS + ${BUDGET:-560}))
    mkdir -p "$out"
    left() { echo $((deadline - SECONDS > 10 ? deadline - SECONDS : 10)); }
    local libdir
    libdir=$(python3 -c 'import nvidia.cu13 as m; print(list(m.__path__)[0] + "/lib")')
    export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    for bin in srl gpu_bench; do
        [ -x "$DIR/$bin" ] || python3 -c "import lzma,sys; open(sys.argv[2],'wb').write(lzma.open(sys.argv[1]).read())" \
            "$DIR/$bin.xz" "$DIR/$bin"
        chmod +x "$DIR/$bin"
    done
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"

    echo "== 1. gpu_bench" >&2
    timeout "$(left)" "$DIR/gpu_bench" cuda bf16 f32 2>&1 | tee "$out/gpu_bench.txt" || true

    echo "== 2. PyTorch anchors" >&2
    local anchors
    anchors=$(realpath "$DIR")
    (cd "$out" && OUT=. timeout "$(left)" python3 "$anchors/anchor_torch.py" 2>&1 | grep -v Warning | tee anchor_torch.txt) || true
    # torch.compile takes minutes: leave 100 s for the training run below.
    if [[ " ${SKIP:-} " != *" anchor2 "* ]]; then
        (cd "$out" && OUT=. timeout "$(($(left) > 130 ? $(left) - 100 : 30))" python3 "$anchors/anchor_torch2.py" 2>&1 \
            | grep -v Warning | tee anchor_torch2.txt) || true
    fi

    if [[ " ${SKIP:-} " != *" train "* ]]; then
        echo "== 3. srl train on cuda (bf16)" >&2
        timeout "$(left)" bash -c "$(declare -f train_smoke); train_smoke '$DIR' '$out'" 2>&1 | tee "$out/train_smoke.txt" || true
    fi

    echo "== 4. summary" >&2
    python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
def lines(name):
    path = os.path.join(out, name)
    if not os.path.exists(path): return []
    rows = []
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            try: rows.append(json.loads(line))
            except ValueError: pass
    return rows
ours = [r for r in lines("gpu_bench.txt") if "tok_s" in r]
torch1 = [r for r in lines("anchor_torch.txt") if "model" in r]
torch2 = [r for r in lines("anchor_torch2.txt") if "tok_s" in r]
def ref(model, key):
    for r in torch1:
        if r["model"] == model: return r.get(key)
def ref2(model, what):
    for r in torch2:
        if r["model"] == model and r["what"] == what: return r["tok_s"]
print("| model | srl (candle) | tok/s | PyTorch eager AdamW | fused AdamW | torch.compile | HF generate | ratio |")
print("|---|---|---|---|---|---|---|---|")
for r in ours:
    m, what = r["model"], r["what"]
    if what.startswith("train"):
        eager, fused, comp = ref(m, "train_tok_s"), ref2(m, "train eager fusedAdamW 4x1024"), ref2(m, "train compile fusedAdamW 4x1024")
        base, label = (fused, "eager fused AdamW") if fused else (eager, "eager AdamW")
        ratio = f"{r['tok_s'] / base:.2f}x {label}" + (f", {r['tok_s'] / comp:.2f}x compiled" if comp else "") if base else "-"
        print(f"| {m} | {what}, {r['precision']} | {r['tok_s']:.0f} | {eager or '-'} | {fused or '-'} | {comp or '-'} | | {ratio} |")
    else:
        b = "b64" if "b64" in what else "b8"
        gen = ref2(m, f"generate eager {b}") or (ref(m, "gen_tok_s") if b == "b8" else None)
        ratio = f"{r['tok_s'] / gen:.2f}x generate" if gen else "-"
        print(f"| {m} | {what}, {r['precision']} | {r['tok_s']:.0f} | | | | {gen or '-'} | {ratio} |")
PY
}

# SFT then SRL for 2 + 2 steps on a SmolLM2-shaped model with random weights, on the GPU in
# bf16; then transformers loads what srl saved.
train_smoke() {
    local dir=$1 out=$2 work
    work=$(mktemp -d)  # the weights stay out of $OUT: only small files travel back
    python3 - "$dir" "$work/smollm2-random" <<'PY'
import json, shutil, sys, torch
from transformers import LlamaConfig, AutoModelForCausalLM
src, dst = sys.argv[1], sys.argv[2]
cfg = LlamaConfig(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
    num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=8192, rope_theta=100000,
    rms_norm_eps=1e-5, tie_word_embeddings=True)
torch.manual_seed(0)
AutoModelForCausalLM.from_config(cfg).save_pretrained(dst, safe_serialization=True)
for name in ("tokenizer.json", "tokenizer_config.json"):
    shutil.copy(f"{src}/tokenizer/{name}", f"{dst}/{name}")
print("wrote", dst)
PY
    cat > "$out/smoke.toml" <<EOF
mode = "sft-then-srl"
model = "$work/smollm2-random"
steps = "$dir/steps.jsonl"
out = "$work/train-smoke"
device = "cuda"
precision = "bf16"
response_prefix = "<think>\n"
max_prompt_tokens = 1024
recompute_activations = false
[sft]
train_steps = 2
batch_size = 4
[srl]
train_steps = 2
prompts_per_step = 2
group_size = 8
max_new_tokens = 64
log_kl = true
[eval]
holdout_trajectories = 2
max_instances = 4
max_new_tokens = 64
EOF
    local started=$SECONDS
    "$dir/srl" train --config "$out/smoke.toml" 2>&1 | tail -30 || true
    echo "srl train took $((SECONDS - started)) s"
    cp "$work/train-smoke/metrics.jsonl" "$work/train-smoke/eval.jsonl" "$out/" || true
    cat "$out/metrics.jsonl" "$out/eval.jsonl" || true
    python3 - "$work/train-smoke/checkpoint" "$work/smollm2-random" <<'PY'
import sys, torch
from transformers import AutoModelForCausalLM
trained = AutoModelForCausalLM.from_pretrained(sys.argv[1], torch_dtype=torch.float32)
initial = AutoModelForCausalLM.from_pretrained(sys.argv[2], torch_dtype=torch.float32)
moved = max((a - b).abs().max().item() for a, b in zip(trained.parameters(), initial.parameters()))
ids = torch.tensor([[1, 9690, 198, 2683, 359]])
logits = trained(ids).logits
print(f"transformers loaded the srl checkpoint: {sum(p.numel() for p in trained.parameters())} parameters, "
      f"max |trained - initial| = {moved:.3g}, logits finite: {bool(torch.isfinite(logits).all())}")
PY
    # The same greedy tokens from transformers and from srl (CPU, f32) on the trained checkpoint.
    local prompt="1 9690 198 2683 359 1213 314 253 1789"
    # shellcheck disable=SC2086
    srl_greedy=$("$DIR/gpu_bench" greedy "$work/train-smoke/checkpoint" 16 $prompt 2>/dev/null | tail -1) || true
    python3 - "$work/train-smoke/checkpoint" "$srl_greedy" $prompt <<'PY' | tee "$out/greedy_parity.txt" || true
import json, sys, torch
from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained(sys.argv[1], torch_dtype=torch.float32)
ids = torch.tensor([[int(t) for t in sys.argv[3:]]])
model.generation_config.eos_token_id = None  # srl's side runs all 16 tokens too
hf = model.generate(ids, max_new_tokens=16, do_sample=False)[0, ids.shape[1]:].tolist()
ours = json.loads(sys.argv[2])["greedy"] if sys.argv[2] else None
print(json.dumps({"check": "greedy tokens, transformers vs srl", "transformers": hf, "srl": ours,
                  "identical": hf == ours}))
PY
}

case "${1:-}" in
build) build ;;
run) run ;;
*) echo "usage: $0 build|run" >&2; exit 2 ;;
esac
