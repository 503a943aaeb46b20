#!/usr/bin/env bash
# Training throughput on CPU from a run's metrics.jsonl: medians per stage of tokens/s and of the
# seconds spent in generation, rewards and the update. With no argument, runs a short SmolLM2
# run first (3 SFT + 2 SRL steps, no evaluation) into runs/bench-train.
#
#   scripts/bench-train.sh [RUN_DIR...]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
runs=("$@")
if [ ${#runs[@]} -eq 0 ]; then
    [ -f models/SmolLM2-135M-Instruct.Q4_1.gguf ] || scripts/fetch-model.sh
    cargo build --release --quiet
    srl=target/release/srl
    mkdir -p runs
    $srl import tasks/*/trajectory.jsonl -o runs/bench-train-trajectories.jsonl
    $srl steps runs/bench-train-trajectories.jsonl -o runs/bench-train-steps.jsonl --context-rounds 1 \
        --max-observation-chars 300
    sed -e 's/^train_steps = 6/train_steps = 3/; s/^train_steps = 4/train_steps = 2/; s/^holdout_trajectories = 3/holdout_trajectories = 0/' \
        scripts/learning/smollm2.toml > runs/bench-train.toml
    rm -rf runs/bench-train
    $srl train --config runs/bench-train.toml --steps runs/bench-train-steps.jsonl --out runs/bench-train >/dev/null
    runs=(runs/bench-train)
fi
python3 - "${runs[@]}" <<'PY'
import json, statistics, sys
rows = {}
for run in sys.argv[1:]:
    for line in open(f"{run}/metrics.jsonl"):
        m = json.loads(line)
        rows.setdefault(m["stage"], []).append(m)
med = lambda ms, k: statistics.median(m[k] for m in ms)
print("| stage | steps | tokens per step | tokens/s | generation s | rewards s | update s |")
print("|---|---|---|---|---|---|---|")
for stage, ms in rows.items():
    # SFT: tokens trained on per step over the update time; SRL: tokens generated over generation time.
    print(f"| {stage} | {len(ms)} | {med(ms, 'tokens'):.0f} | {med(ms, 'tokens_per_second'):.1f} | "
          f"{med(ms, 'seconds_generation'):.1f} | {med(ms, 'seconds_reward'):.2f} | {med(ms, 'seconds_update'):.1f} |")
PY
