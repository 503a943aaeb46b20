#!/usr/bin/env bash
# Sandbox latencies (see examples/bench_sandbox.rs): brings the Docker engine and the sandbox
# image up first, then runs the benchmark in release mode. Usage: scripts/bench-sandbox.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/docker-up.sh
scripts/sandbox-image.sh | tail -1
CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" cargo run --release --quiet --example bench_sandbox
