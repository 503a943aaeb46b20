#!/usr/bin/env bash
# Times CPython's difflib.SequenceMatcher(None, a, b, autojunk=X).ratio() against the Rust port
# (srl::reward::difflib::ratio) on the same pairs, for autojunk false and true.
#
#   scripts/bench-similarity.sh            # N=5000 pairs, 3 repeats per side and setting
#   N=20000 REPEAT=5 scripts/bench-similarity.sh
#
# Both sides time only their ratio loop (time.perf_counter / std::time::Instant), single-threaded,
# over pairs generated once by scripts/difflib_pairs.py (fixed SEED). There are REPEAT rounds per
# autojunk setting; a round is one CPython pass, then one Rust process doing an untimed warm-up
# pass and RUST_PASSES timed ones (a Rust pass is short, tens of ms, so one pass alone is at the
# mercy of the scheduler on a busy machine). Rounds alternate the two sides, so that a load change
# hits both. The report gives the median pass of each side and the ratio of the medians. The
# checksum (sum of all ratios in file order) must be identical on both sides: a cheap end-to-end
# parity check of the timed work.
set -euo pipefail

N=${N:-5000}
SEED=${SEED:-20240601}
REPEAT=${REPEAT:-3}
RUST_PASSES=${RUST_PASSES:-5}
cd "$(dirname "$0")/.."
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2} cargo build --quiet --release --example bench_similarity
RUST_BIN=${CARGO_TARGET_DIR:-target}/release/examples/bench_similarity
python3 scripts/difflib_pairs.py generate --n "$N" --seed "$SEED" --out "$WORK/pairs.jsonl" --no-expected
echo "pairs: $N (seed $SEED), rounds: $REPEAT (rust: $RUST_PASSES passes each), python: $(python3 -V 2>&1), host: $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"

for autojunk in false true; do
    : >"$WORK/runs.jsonl"
    for _ in $(seq "$REPEAT"); do
        python3 scripts/difflib_pairs.py time --pairs "$WORK/pairs.jsonl" --autojunk "$autojunk" --repeat 1 >>"$WORK/runs.jsonl"
        "$RUST_BIN" --pairs "$WORK/pairs.jsonl" --autojunk "$autojunk" --repeat "$RUST_PASSES" >>"$WORK/runs.jsonl"
    done
    python3 - "$WORK/runs.jsonl" <<'EOF'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
by = {impl: [r for r in runs if r["impl"] == impl] for impl in ("cpython", "rust")}
med = {impl: statistics.median(s for r in rs for s in r["seconds"]) for impl, rs in by.items()}
sums = {r["checksum"] for r in runs}
pairs = runs[0]["pairs"]
print(f"autojunk={runs[0]['autojunk']}: cpython median {med['cpython']:.3f} s "
      f"({med['cpython'] / pairs * 1e6:.1f} us/pair), rust median {med['rust']:.4f} s "
      f"({med['rust'] / pairs * 1e6:.2f} us/pair), speed-up {med['cpython'] / med['rust']:.0f}x, "
      f"checksums {'identical' if len(sums) == 1 else 'DIFFER: ' + repr(sums)}")
for impl, rs in by.items():
    print(f"  {impl} runs (s): " + ", ".join(f"{s:.4f}" for r in rs for s in r["seconds"]))
EOF
done
