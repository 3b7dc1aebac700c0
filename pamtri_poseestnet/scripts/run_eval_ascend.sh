#!/bin/bash
# Evaluation on Ascend: both PCK tables (reference and honest protocol). Log: eval.log.
# Usage: bash scripts/run_eval_ascend.sh [DATA_PATH] [CKPT_PATH] [DEVICE_ID] [eval.py args...]
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "Usage: bash scripts/run_eval_ascend.sh [DATA_PATH] [CKPT_PATH] [DEVICE_ID] [eval.py args...]"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA_PATH=$(realpath "$1")
CKPT_PATH=$(realpath "$2")
export DEVICE_ID=$3
shift 3
cd "$ROOT"
python eval.py --cfg config.yaml --data_dir "$DATA_PATH" --ckpt_path "$CKPT_PATH" \
    --device_target Ascend --device_id "$DEVICE_ID" "$@" 2>&1 | tee eval.log
