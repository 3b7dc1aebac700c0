#!/bin/bash
# Single-process training on CPU. Log: train_cpu.log.
# Usage: bash scripts/run_single_train_cpu.sh [DATA_PATH] [PRETRAINED_PATH|none] [train.py args...]
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "Usage: bash scripts/run_single_train_cpu.sh [DATA_PATH] [PRETRAINED_PATH|none] [train.py args...]"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA_PATH=$(realpath "$1")
PRETRAINED=$2
shift 2
PRE=(--pre_trained False)
[ "$PRETRAINED" != "none" ] && PRE=(--pre_trained True --pre_ckpt_path "$(realpath "$PRETRAINED")")
cd "$ROOT"
python train.py --cfg config.yaml --data_dir "$DATA_PATH" --device_target CPU "${PRE[@]}" "$@" \
    2>&1 | tee train_cpu.log
