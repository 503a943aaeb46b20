#!/usr/bin/env bash
# Learning evidence on CPU: SmolLM2-135M-Instruct, SFT warm-up then SRL, on the step instances
# of the shipped tasks, for several seeds; greedy evaluation on held-out trajectories before
# training, after the SFT stage and after SRL. Prints a markdown table (also written to
# runs/learning/summary.md).
#
#   scripts/learning-evidence.sh [SEEDS...]        (default: 1 2 3)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
[ -f models/SmolLM2-135M-Instruct.Q4_1.gguf ] || scripts/fetch-model.sh
cargo build --release --quiet
srl=target/release/srl
root=runs/learning
mkdir -p "$root"
$srl import tasks/*/trajectory.jsonl -o "$root/trajectories.jsonl"
$srl steps "$root/trajectories.jsonl" -o "$root/steps.jsonl" --context-rounds 1 --max-observation-chars 300
for seed in "${seeds[@]}"; do
    run="$root/seed-$seed"
    if [ -f "$run/checkpoint/trainer.json" ]; then
        $srl train --resume "$run"
    else
        rm -rf "$run"
        $srl train --config scripts/learning/smollm2.toml --steps "$root/steps.jsonl" --out "$run" --seed "$seed"
    fi
done
python3 - "$root" "${seeds[@]}" <<'PY' | tee "$root/summary.md"
import json, statistics, sys
root, seeds = sys.argv[1], sys.argv[2:]
rows = {}
for seed in seeds:
    for line in open(f"{root}/seed-{seed}/eval.jsonl"):
        e = json.loads(line)
        rows.setdefault(e["label"], []).append(e)
print("| evaluation (greedy, held-out steps) | mean reward per seed | mean | spread (max-min) | format errors per seed |")
print("|---|---|---|---|---|")
for label in ["before", "after-sft", "after"]:
    es = rows.get(label, [])
    if not es:
        continue
    r = [e["mean_reward"] for e in es]
    f = [e["format_error_rate"] for e in es]
    print(f"| {label} | {', '.join(f'{x:.3f}' for x in r)} | {statistics.mean(r):.3f} | {max(r)-min(r):.3f} | {', '.join(f'{100*x:.0f}%' for x in f)} |")
n = rows.get("after", [{}])[0].get("instances")
print(f"\n{n} held-out step instances; seeds {' '.join(seeds)}.")
PY
