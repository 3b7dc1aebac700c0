#!/bin/bash
# Evaluation on Ascend (detection boxes by default; add --use_gt_bbox True for ground truth).
# Usage: bash scripts/run_eval.sh CKPT_FILE [DATA_PATH] [OUTPUT_PATH] [eval.py args...]
set -euo pipefail
if [ $# -lt 1 ]; then
    echo "Usage: bash scripts/run_eval.sh CKPT_FILE [DATA_PATH] [OUTPUT_PATH] [eval.py args...]"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CKPT_FILE=$(realpath "$1")
DATA_PATH=${2:-$ROOT/data/coco}
OUTPUT_PATH=${3:-$ROOT/eval_results}
shift $(( $# < 3 ? $# : 3 ))
CONFIG=()
[ -f "$(dirname "$CKPT_FILE")/config.json" ] && CONFIG=(--config_file "$(dirname "$CKPT_FILE")/config.json")
mkdir -p "$OUTPUT_PATH"
cd "$ROOT"
python eval.py --device_target Ascend --device_id "${DEVICE_ID:-0}" --ckpt_file "$CKPT_FILE" \
    --data_url "$DATA_PATH" --output_dir "$OUTPUT_PATH" "${CONFIG[@]}" "$@" 2>&1 | tee "$OUTPUT_PATH/eval.log"
