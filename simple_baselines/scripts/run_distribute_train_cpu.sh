#!/bin/bash
# Data-parallel training with WORKER_NUM CPU processes under msrun (one shard each).
# Usage: bash scripts/run_distribute_train_cpu.sh WORKER_NUM [DATA_PATH] [OUTPUT_PATH] [train.py args...]
# Logs: OUTPUT_PATH/msrun_log/worker_*.log. MASTER_PORT (default 8118) must be free.
set -euo pipefail
if [ $# -lt 1 ]; then
    echo "Usage: bash scripts/run_distribute_train_cpu.sh WORKER_NUM [DATA_PATH] [OUTPUT_PATH] [train.py args...]"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORKER_NUM=$1
DATA_PATH=${2:-$ROOT/data/coco}
OUTPUT_PATH=${3:-$ROOT/train_parallel}
shift $(( $# < 3 ? $# : 3 ))
mkdir -p "$OUTPUT_PATH"
cd "$ROOT"
msrun --worker_num="$WORKER_NUM" --local_worker_num="$WORKER_NUM" --master_port="${MASTER_PORT:-8118}" \
    --log_dir="$OUTPUT_PATH/msrun_log" --join=True \
    train.py --device_target CPU --run_distribute True --data_url "$DATA_PATH" --train_url "$OUTPUT_PATH" "$@"
