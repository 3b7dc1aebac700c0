#!/usr/bin/env bash
# Single-device training (CPU, GPU, or Ascend through npu_bridge when it is installed).
#   bash scripts/run_standalone_train.sh DATASET_DIR CHECKPOINT_DIR [geonet_main.py flags...]
# Defaults are the paper's (train_rigid, lr 2e-4, batch 4, 128x416); add e.g. --seq_length=5 for
# the pose model. Rerunning the same command resumes from the latest checkpoint.
set -euo pipefail
DATA=${1:?usage: run_standalone_train.sh DATASET_DIR CHECKPOINT_DIR [flags...]}
CKPT=${2:?usage: run_standalone_train.sh DATASET_DIR CHECKPOINT_DIR [flags...]}
shift 2
cd "$(dirname "$0")/.."
mkdir -p "$CKPT"
python geonet_main.py --mode=train_rigid --dataset_dir="$DATA" --checkpoint_dir="$CKPT" "$@" \
  2>&1 | tee -a "$CKPT/train.log"
