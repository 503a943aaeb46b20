#!/usr/bin/env bash
# Time to first paint and peak memory of `srl view` on large inputs (release build): a 100 MB
# srl.trajectory/1 file (2,000 trajectories, one with a 2 MB observation) and a training run
# with 10,000 rollouts (1,250 steps x 1 group x 8). Headless Chromium (through chromedriver)
# loads each page 5 times; the page marks when the list and the first step (or the curves, or
# the first rollout groups) are in the DOM (`performance.mark`, measured from the navigation's
# start, i.e. the request). The server's peak RSS is VmHWM from /proc after all the loads.
# Usage: scripts/bench-view.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" cargo build --release --quiet
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

python3 scripts/bench_view.py generate "$work"
ls -l "$work/big.jsonl" "$work/run/rollouts.jsonl" | awk '{print $5, $9}'

serve() { # PATH PORT -> prints the index time; the server keeps running
    local start end
    start=$(date +%s%N)
    ./target/release/srl view "$1" --port "$2" > "$work/serve-$2.log" 2>&1 &
    pids+=($!)
    until grep -q '^serving' "$work/serve-$2.log"; do sleep 0.02; done
    end=$(date +%s%N)
    echo "$(( (end - start) / 1000000 )) ms to index $1 ($(head -1 "$work/serve-$2.log"))"
}
serve "$work/big.jsonl" 8711
big_pid=${pids[-1]}
serve "$work/run" 8712
run_pid=${pids[-1]}
python3 scripts/bench_view.py measure "$runs" \
    "trajectory list + first step, 100 MB file|http://127.0.0.1:8711/#/r/0/t/1000|list,first-step" \
    "trajectory with a 2 MB observation|http://127.0.0.1:8711/#/r/0/t/0|list,first-step" \
    "curves, 1,250 steps|http://127.0.0.1:8712/#/r/0/curves|curves" \
    "rollout groups of one step, 10,000 rollouts|http://127.0.0.1:8712/#/r/0/rollouts?step=900|rollouts" \
    "one step instance followed across training|http://127.0.0.1:8712/#/r/0/rollouts?step_id=traj-7.0000abcd/3|rollouts"
for pid in "$big_pid" "$run_pid"; do
    echo "server $pid peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$pid/status")"
done
