#!/usr/bin/env bash
# Data-parallel training on RANK_SIZE workers.
#   bash scripts/run_distribute_train.sh RANK_SIZE DATASET_DIR CHECKPOINT_DIR [flags...]
# CPU/GPU: Horovod with Gloo (horovodrun --gloo -np RANK_SIZE), one worker per process; GPUs are
# picked by Horovod's local rank (set CUDA_VISIBLE_DEVICES per machine as usual).
# Ascend: with npu_bridge installed and RANK_TABLE_FILE set, one process per device with
# RANK_ID / DEVICE_ID, npu_bridge's distributed optimizer and HCCL.
# --batch_size is per worker; every worker reads its own shard of train.txt; rank 0 writes the
# checkpoints, summaries and log (CHECKPOINT_DIR/train.log).
set -euo pipefail
usage="usage: run_distribute_train.sh RANK_SIZE DATASET_DIR CHECKPOINT_DIR [flags...]"
RANK_SIZE=${1:?$usage}
DATA=${2:?$usage}
CKPT=${3:?$usage}
shift 3
cd "$(dirname "$0")/.."
mkdir -p "$CKPT"
if python -c "import npu_bridge.npu_init" 2>/dev/null && [ -n "${RANK_TABLE_FILE:-}" ]; then
  export RANK_SIZE
  for ((i = 0; i < RANK_SIZE; i++)); do
    RANK_ID=$i DEVICE_ID=$i python geonet_main.py --mode=train_rigid --dataset_dir="$DATA" \
      --checkpoint_dir="$CKPT" --distributed=npu "$@" > "$CKPT/rank_$i.log" 2>&1 &
  done
  wait
else
  horovodrun --gloo -np "$RANK_SIZE" -H "localhost:$RANK_SIZE" \
    python geonet_main.py --mode=train_rigid --dataset_dir="$DATA" --checkpoint_dir="$CKPT" \
    --distributed=horovod "$@" 2>&1 | tee -a "$CKPT/train.log"
fi
