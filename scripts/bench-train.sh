#!/usr/bin/env bash
# Training throughput on CPU: the GRPO and SFT step costs for the tiny test configuration and
# SmolLM2-135M (examples/bench_train.rs, medians of 3). Given run directories, also summarises
# their metrics.jsonl: per stage, medians of tokens/s and of the seconds in generation, rewards
# and the update.
#
#   scripts/bench-train.sh [RUN_DIR...]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
[ -f models/SmolLM2-135M-Instruct.Q4_1.gguf ] || scripts/fetch-model.sh
cargo run --release --quiet --example bench_train
[ $# -gt 0 ] || exit 0
echo
python3 - "$@" <<'PY'
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
