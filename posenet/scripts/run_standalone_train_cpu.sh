#!/usr/bin/env bash
# Single-device training on CPU: bash run_standalone_train_cpu.sh [DATASET_NAME] [DEVICE_ID] [extra args]
# Log: $RUN_DIR/train_standalone_<DATASET_NAME>/train.log (RUN_DIR defaults to posenet/).
set -euo pipefail
source "$(dirname "$0")/_launch.sh"
need_args $# 2 "[DATASET_NAME] [DEVICE_ID]"
dataset=$1; device_id=$2; shift 2
is_int "$device_id" || { echo "DEVICE_ID must be an integer, got '$device_id'" >&2; exit 1; }
run_dir="$RUN_ROOT/train_standalone_$dataset"
mkdir -p "$run_dir"
cd "$POSENET_DIR"
echo "training PoseNet on $dataset (CPU, device $device_id); log: $run_dir/train.log"
python train.py --device_target CPU --device_id "$device_id" --dataset "$dataset" "$@" \
  2>&1 | tee "$run_dir/train.log"
