#!/bin/bash
# Evaluation of an exported ONNX model with ONNX Runtime on CPU (export.py --file_format ONNX).
# Log: onnx_eval.log.
# Usage: bash scripts/run_onnx_eval_cpu.sh [DATA_PATH] [ONNX_PATH] [eval_onnx.py args...]
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "Usage: bash scripts/run_onnx_eval_cpu.sh [DATA_PATH] [ONNX_PATH] [eval_onnx.py args...]"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA_PATH=$(realpath "$1")
ONNX_PATH=$(realpath "$2")
shift 2
cd "$ROOT"
python eval_onnx.py --cfg config.yaml --data_dir "$DATA_PATH" --onnx_path "$ONNX_PATH" \
    --device_target CPU "$@" 2>&1 | tee onnx_eval.log
