#!/bin/bash
# Evaluation on CPU: both PCK tables (reference and honest protocol). Log: eval.log.
# Usage: bash scripts/run_eval_cpu.sh [DATA_PATH] [CKPT_PATH] [eval.py args...]
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "Usage: bash scripts/run_eval_cpu.sh [DATA_PATH] [CKPT_PATH] [eval.py args...]"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA_PATH=$(realpath "$1")
CKPT_PATH=$(realpath "$2")
shift 2
cd "$ROOT"
python eval.py --cfg config.yaml --data_dir "$DATA_PATH" --ckpt_path "$CKPT_PATH" \
    --device_target CPU "$@" 2>&1 | tee eval.log
