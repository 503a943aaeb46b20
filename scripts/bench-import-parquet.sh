#!/usr/bin/env bash
# Import throughput on a parquet file of at least 1 GB (issue #18): `srl import` (release
# build) against pyarrow reading the same file row group by row group and json.loads-ing its
# JSON-string `messages` column, in the same run, median of RUNS; peak RSS from GNU time.
#
# The file has SWE-smith's trajectory schema (messages as a JSON string, instance_id,
# resolved, model, traj_id, patch), snappy-compressed, ROWS_PER_GROUP rows to a row group,
# its rows the three SWE-smith trajectories of the fixtures (ft_xml_example.jsonl) repeated,
# each copy made unique (a row number in its task text and traj_id) so that no encoding can
# fold the copies together. The file is deleted at the end.
#
# Usage: scripts/bench-import-parquet.sh        (env: SIZE_MB=1100 RUNS=3 ROWS_PER_GROUP=64 WORK=dir)
# Needs: python3 with pyarrow (pip install pyarrow), GNU time at /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
fixtures="${FIXTURES:-../shared/fixtures/real}"
size_mb="${SIZE_MB:-1100}"
runs="${RUNS:-3}"
rows_per_group="${ROWS_PER_GROUP:-64}"
work="$(mktemp -d "${WORK:-/tmp}/bench-parquet.XXXXXX")"
trap 'rm -rf "$work"' EXIT
python3 -c 'import pyarrow' 2>/dev/null || { echo "needs pyarrow: pip install pyarrow" >&2; exit 1; }
CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" cargo build --release --quiet
file="$work/train-00000-of-00001.parquet"

python3 - "$fixtures/swe-smith/tests/test_logs/ft_xml_example.jsonl" "$file" "$size_mb" "$rows_per_group" <<'PY'
import json, os, sys
import pyarrow as pa
import pyarrow.parquet as pq

source, path, size_mb, rows_per_group = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
records = [json.loads(line) for line in open(source) if line.strip()]
schema = pa.schema([("messages", pa.string()), ("instance_id", pa.string()), ("resolved", pa.bool_()),
                    ("model", pa.string()), ("traj_id", pa.string()), ("patch", pa.string())])

def row(n):
    record = records[n % len(records)]
    messages = [dict(m) for m in record["messages"]]
    task = next(m for m in messages if m["role"] == "user")
    task["content"] = task["content"].replace("</pr_description>", f"(copy {n})\n</pr_description>", 1)
    return {"messages": json.dumps(messages), "instance_id": record["instance_id"], "resolved": n % 3 != 1,
            "model": "claude-3-7-sonnet-20250219", "traj_id": f"{record['instance_id']}.{n}", "patch": ""}

writer = pq.ParquetWriter(path, schema, compression="snappy")
n = 0
while os.path.getsize(path) < size_mb * 1_000_000:
    writer.write_table(pa.Table.from_pylist([row(n + k) for k in range(rows_per_group)], schema=schema),
                       row_group_size=rows_per_group)
    n += rows_per_group
writer.close()
print(f"{path}: {n} rows, {os.path.getsize(path) / 1e6:.0f} MB", file=sys.stderr)
PY

cat > "$work/read.py" <<'PY'
import json, sys
import pyarrow.parquet as pq

parquet = pq.ParquetFile(sys.argv[1])
rows = messages = 0
for group in range(parquet.num_row_groups):
    for row in parquet.read_row_group(group).to_pylist():
        messages += len(json.loads(row["messages"]))
        rows += 1
print(f"{rows} rows, {messages} messages", file=sys.stderr)
PY

# Prints "wall_seconds peak_kib cpu_seconds" for one run of the command; its stdout is discarded.
measure() {
    /usr/bin/time -f '%e %M %U %S' -o "$work/time" "$@" > /dev/null 2> "$work/stderr" || { cat "$work/stderr" >&2; exit 1; }
    awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$work/time"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

rows=$(python3 -c "import pyarrow.parquet as pq, sys; print(pq.ParquetFile(sys.argv[1]).metadata.num_rows)" "$file")
bytes=$(stat -c %s "$file")
: > "$work/srl"
: > "$work/py"
for _ in $(seq "$runs"); do
    measure ./target/release/srl import "$file" -o - >> "$work/srl"
    srl_summary=$(cat "$work/stderr")
    measure python3 "$work/read.py" "$file" >> "$work/py"
    py_summary=$(cat "$work/stderr")
done
report() {
    local name=$1 data=$2 summary=$3
    local secs kib cpu
    secs=$(cut -d' ' -f1 "$data" | median)
    kib=$(cut -d' ' -f2 "$data" | sort -n | tail -1)
    cpu=$(cut -d' ' -f3 "$data" | median)
    awk -v n="$name" -v s="$secs" -v k="$kib" -v c="$cpu" -v r="$rows" \
        'BEGIN { printf "%-22s median %6.1f s wall  %7.0f rows/s  %6.1f s CPU  peak RSS %5.0f MB\n", n, s, r / s, c, k / 1024 }'
    echo "    runs (wall s, peak KiB, CPU s): $(tr '\n' ';' < "$data")"
    echo "    $summary"
}
echo "file: $((bytes / 1000000)) MB, $rows rows, $rows_per_group rows per row group, snappy; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
report "srl import" "$work/srl" "$srl_summary"
report "pyarrow + json.loads" "$work/py" "$py_summary"
