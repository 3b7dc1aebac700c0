#!/bin/bash
# Evaluation on GPU (detection boxes by default; add --use_gt_bbox True for ground truth).
# Usage: bash scripts/run_eval_gpu.sh DEVICE_ID CKPT_FILE [DATA_PATH] [OUTPUT_PATH] [eval.py args...]
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "Usage: bash scripts/run_eval_gpu.sh DEVICE_ID CKPT_FILE [DATA_PATH] [OUTPUT_PATH] [eval.py args...]"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEVICE_ID=$1
CKPT_FILE=$(realpath "$2")
DATA_PATH=${3:-$ROOT/data/coco}
OUTPUT_PATH=${4:-$ROOT/eval_results}
shift $(( $# < 4 ? $# : 4 ))
CONFIG=()
[ -f "$(dirname "$CKPT_FILE")/config.json" ] && CONFIG=(--config_file "$(dirname "$CKPT_FILE")/config.json")
mkdir -p "$OUTPUT_PATH"
cd "$ROOT"
python eval.py --device_target GPU --device_id "$DEVICE_ID" --ckpt_file "$CKPT_FILE" \
    --data_url "$DATA_PATH" --output_dir "$OUTPUT_PATH" "${CONFIG[@]}" "$@" 2>&1 | tee "$OUTPUT_PATH/eval.log"
