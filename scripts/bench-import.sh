#!/usr/bin/env bash
# Times `srl import` over the whole fixture folder (release build), against the time Python
# needs just to json-decode the same files, in the same run. Prints medians of N runs.
# Usage: scripts/bench-import.sh [FIXTURE_DIR] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
fixtures="${1:-../shared/fixtures/real}"
runs="${2:-11}"
CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" cargo build --release --quiet
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

srl_times=()
for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    ./target/release/srl import "$fixtures" -o "$out/all.jsonl" > "$out/summary.txt"
    end=$(date +%s%N)
    srl_times+=($(( (end - start) / 1000 )))
done
py_times=()
for _ in $(seq "$runs"); do
    py_times+=($(python3 - "$fixtures" <<'PY'
import json, pathlib, sys, time
start = time.perf_counter()
for p in sorted(pathlib.Path(sys.argv[1]).rglob("*")):
    if p.suffix in (".json", ".traj"):
        json.loads(p.read_text())
    elif p.suffix == ".jsonl":
        for line in p.read_text().splitlines():
            if line.strip():
                json.loads(line)
print(int((time.perf_counter() - start) * 1e6))
PY
))
done
bytes=$(du -sb "$fixtures" | cut -f1)
srl_us=$(printf '%s\n' "${srl_times[@]}" | median)
py_us=$(printf '%s\n' "${py_times[@]}" | median)
echo "fixtures: $fixtures ($((bytes / 1024)) KiB)"
cat "$out/summary.txt"
echo "srl import (whole process, median of $runs): $((srl_us / 1000)) ms"
echo "python3 json.loads of the same files (decode only, median of $runs): $((py_us / 1000)) ms"
