#!/usr/bin/env bash
# Wall time of `srl eval` over the shipped tasks with their gold patches, with 1 and 2 workers,
# for the Docker and local backends, and the share of instance time spent outside the tests
# (harness overhead). Fresh run ids every time, so nothing is reused.
# Usage: scripts/bench-eval.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-3}"
CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" cargo build --release --quiet
srl="$PWD/target/release/srl"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$srl" tasks export --tasks tasks -o "$work/instances.jsonl" >/dev/null
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
with open(f"{work}/instances.jsonl") as src, open(f"{work}/gold.jsonl", "w") as out:
    for line in src:
        i = json.loads(line)
        out.write(json.dumps({"instance_id": i["instance_id"], "model_name_or_path": "gold", "model_patch": i["patch"]}) + "\n")
PY
echo "backend workers  run  wall_s  tests_share_of_worker_time"
for backend in docker local; do
    for workers in 1 2; do
        for rep in $(seq "$repeats"); do
            line=$(cd "$work" && "$srl" eval --instances instances.jsonl --predictions gold.jsonl \
                --run-id "b-$backend-$workers-$rep" --repos "$OLDPWD/tasks" --sandbox "$backend" --workers "$workers")
            wall=$(echo "$line" | sed -E 's/.* in ([0-9.]+) s:.*/\1/')
            share=$(echo "$line" | sed -E 's/.*tests took ([0-9]+)% .*/\1/')
            resolved=$(echo "$line" | sed -E 's/.*: ([0-9]+) resolved.*/\1/')
            echo "$backend $workers $rep $wall ${share}% (resolved $resolved)"
        done
    done
done
