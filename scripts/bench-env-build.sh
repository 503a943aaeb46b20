#!/usr/bin/env bash
# Build time of `srl env build` per image, cold (--force: every image rebuilt, pip downloads
# again) and cached (the same command again: every image up to date), for the dev set's two
# SWE-bench instances and the 12 shipped tasks, one worker, then the cold build with 2 workers.
# Usage: scripts/bench-env-build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" cargo build --quiet
srl="${CARGO_TARGET_DIR:-target}/debug/srl"
data="${SRL_FIXTURES:-../shared/fixtures/real}/swe-agent/tests/test_data/data_sources"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
dev=("$data/swe-bench-lite-test.json" "$data/swe-bench-dev-easy.json" --repos ../shared/fixtures/swebench/repos
    --instance-id pytest-dev__pytest-11143 --instance-id pydicom__pydicom-1458 --logs "$logs")
for run in cold cached; do
    force=(); [ "$run" = cold ] && force=(--force)
    echo "== $run, 1 worker"
    "$srl" env build "${dev[@]}" "${force[@]}" 2>&1 | grep -v '^  warning'
    "$srl" env build tasks --logs "$logs" "${force[@]}" 2>&1 | grep -v '^  warning'
done
echo "== cold, 2 workers"
"$srl" env build "${dev[@]}" --force --workers 2 2>&1 | grep -v '^  warning'
"$srl" env build tasks --logs "$logs" --force --workers 2 2>&1 | grep -v '^  warning'
