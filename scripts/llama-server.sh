#!/usr/bin/env bash
# Serves the embedded student (models/SmolLM2-135M-Instruct.Q4_1.gguf, from scripts/fetch-model.sh)
# over llama.cpp's OpenAI-compatible API, for `srl agent --model openai:http://127.0.0.1:PORT/v1#smollm2`.
# Needs llama-cpp-python's server extras: pip install 'llama-cpp-python[server]==0.3.36'
# Usage: scripts/llama-server.sh [PORT] [MODEL.gguf]   (default: 8080, the SmolLM2 GGUF); Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
port="${1:-8080}"
model="${2:-models/SmolLM2-135M-Instruct.Q4_1.gguf}"
if [ ! -s "$model" ]; then
    echo "error: $model is missing (run scripts/fetch-model.sh)" >&2
    exit 1
fi
if ! python3 -c 'import llama_cpp.server' 2>/dev/null; then
    echo "error: python3 cannot import llama_cpp.server (pip install 'llama-cpp-python[server]==0.3.36')" >&2
    exit 1
fi
exec python3 -m llama_cpp.server --model "$model" --model_alias smollm2 \
    --host 127.0.0.1 --port "$port" --n_ctx 4096
