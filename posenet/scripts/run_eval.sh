#!/usr/bin/env bash
# Evaluation on Ascend: bash run_eval.sh [DEVICE_ID] [DATASET_NAME] [CKPT_PATH] [extra args]
# Results (metrics.json, predictions_test.txt, PNGs) and eval.log in $RUN_DIR/eval/<DATASET_NAME>.
set -euo pipefail
source "$(dirname "$0")/_launch.sh"
need_args $# 3 "[DEVICE_ID] [DATASET_NAME] [CKPT_PATH]"
device_id=$1; dataset=$2; ckpt=$3; shift 3
is_int "$device_id" || { echo "DEVICE_ID must be an integer, got '$device_id'" >&2; exit 1; }
[ -f "$ckpt" ] || { echo "checkpoint '$ckpt' not found" >&2; exit 1; }
ckpt=$(cd "$(dirname "$ckpt")" && pwd)/$(basename "$ckpt")
out="$RUN_ROOT/eval/$dataset"
mkdir -p "$out"
cd "$POSENET_DIR"
python eval.py --device_target Ascend --device_id "$device_id" --dataset "$dataset" \
  --ckpt_path "$ckpt" --output_dir "$out" "$@" 2>&1 | tee "$out/eval.log"
