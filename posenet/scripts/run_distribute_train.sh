#!/usr/bin/env bash
# Data-parallel training on Ascend: bash run_distribute_train.sh [DATASET_NAME] [RANK_SIZE] [extra args]
# With RANK_TABLE_FILE set (an hccl rank table, see the model zoo's hccl_tools), starts one
# process per device with DEVICE_ID/RANK_ID, logs in $RUN_DIR/device<i>/log; without it, uses
# msrun (MASTER_PORT, default 8118). Each rank reads its own shard; rank 0 writes the MindRecord
# (the others wait for it) and the checkpoints.
set -euo pipefail
source "$(dirname "$0")/_launch.sh"
need_args $# 2 "[DATASET_NAME] [RANK_SIZE]"
dataset=$1; rank_size=$2; shift 2
is_int "$rank_size" && [ "$rank_size" -ge 1 ] || { echo "RANK_SIZE must be a positive integer, got '$rank_size'" >&2; exit 1; }
cd "$POSENET_DIR"
if [ -n "${RANK_TABLE_FILE:-}" ]; then
  [ -f "$RANK_TABLE_FILE" ] || { echo "RANK_TABLE_FILE '$RANK_TABLE_FILE' not found" >&2; exit 1; }
  export RANK_TABLE_FILE RANK_SIZE="$rank_size"
  pids=()
  for ((i = 0; i < rank_size; i++)); do
    mkdir -p "$RUN_ROOT/device$i"
    DEVICE_ID=$i RANK_ID=$i python train.py --run_distribute True --device_target Ascend \
      --device_id "$i" --dataset "$dataset" --device_num "$rank_size" "$@" \
      > "$RUN_ROOT/device$i/log" 2>&1 &
    pids+=($!)
    echo "started rank $i (pid ${pids[-1]}), log $RUN_ROOT/device$i/log"
  done
  status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  [ $status -eq 0 ] && echo "training success" || { echo "training failed" >&2; exit 2; }
else
  run_dir="$RUN_ROOT/train_parallel_$dataset"
  mkdir -p "$run_dir"
  msrun --worker_num="$rank_size" --local_worker_num="$rank_size" \
    --master_port="${MASTER_PORT:-8118}" --log_dir="$run_dir" --join=True \
    train.py --run_distribute True --device_target Ascend --dataset "$dataset" \
    --device_num "$rank_size" "$@"
fi
