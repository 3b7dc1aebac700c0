#!/usr/bin/env bash
# Data-parallel training on CPU with msrun: bash run_distribute_train_cpu.sh [DATASET_NAME] [RANK_SIZE] [extra args]
# One process per device on this machine; each rank reads its own shard of the MindRecord,
# rank 0 writes it first and the checkpoints. Logs: $RUN_DIR/train_parallel_<DATASET_NAME>/.
# MASTER_PORT (default 8118) picks the scheduler port.
set -euo pipefail
source "$(dirname "$0")/_launch.sh"
need_args $# 2 "[DATASET_NAME] [RANK_SIZE]"
dataset=$1; rank_size=$2; shift 2
is_int "$rank_size" && [ "$rank_size" -ge 1 ] || { echo "RANK_SIZE must be a positive integer, got '$rank_size'" >&2; exit 1; }
run_dir="$RUN_ROOT/train_parallel_$dataset"
mkdir -p "$run_dir"
cd "$POSENET_DIR"
echo "msrun: $rank_size workers on CPU; logs in $run_dir"
msrun --worker_num="$rank_size" --local_worker_num="$rank_size" \
  --master_port="${MASTER_PORT:-8118}" --log_dir="$run_dir" --join=True \
  train.py --run_distribute True --device_target CPU --dataset "$dataset" \
  --device_num "$rank_size" "$@"
