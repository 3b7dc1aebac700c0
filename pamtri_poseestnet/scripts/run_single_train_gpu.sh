#!/bin/bash
# Single-device training on GPU. Log: train_gpu.log (grep "loss is" train_gpu.log).
# Usage: bash scripts/run_single_train_gpu.sh [DATA_PATH] [PRETRAINED_PATH|none] [DEVICE_ID] [train.py args...]
# example: bash scripts/run_single_train_gpu.sh ../data/ PoseEstNet_pretrained.ckpt 0
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "Usage: bash scripts/run_single_train_gpu.sh [DATA_PATH] [PRETRAINED_PATH|none] [DEVICE_ID] [train.py args...]"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA_PATH=$(realpath "$1")
PRETRAINED=$2
export DEVICE_ID=$3
shift 3
PRE=(--pre_trained False)
[ "$PRETRAINED" != "none" ] && PRE=(--pre_trained True --pre_ckpt_path "$(realpath "$PRETRAINED")")
cd "$ROOT"
python train.py --cfg config.yaml --data_dir "$DATA_PATH" --device_target GPU --device_id "$DEVICE_ID" \
    "${PRE[@]}" "$@" 2>&1 | tee train_gpu.log
