#!/bin/bash
# Data-parallel training on DEVICE_NUM GPUs: mpirun if present (as the reference), else msrun.
# Usage: bash scripts/run_distribute_train_gpu.sh DEVICE_NUM [DATA_PATH] [OUTPUT_PATH] [train.py args...]
set -euo pipefail
if [ $# -lt 1 ]; then
    echo "Usage: bash scripts/run_distribute_train_gpu.sh DEVICE_NUM [DATA_PATH] [OUTPUT_PATH] [train.py args...]"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEVICE_NUM=$1
DATA_PATH=${2:-$ROOT/data/coco}
OUTPUT_PATH=${3:-$ROOT/train_parallel}
shift $(( $# < 3 ? $# : 3 ))
mkdir -p "$OUTPUT_PATH"
cd "$ROOT"
ARGS=(train.py --device_target GPU --run_distribute True --data_url "$DATA_PATH" --train_url "$OUTPUT_PATH" "$@")
if command -v mpirun > /dev/null; then
    mpirun -n "$DEVICE_NUM" --output-filename "$OUTPUT_PATH/log_output" --merge-stderr-to-stdout \
        python "${ARGS[@]}" 2>&1 | tee "$OUTPUT_PATH/train.log"
else
    msrun --worker_num="$DEVICE_NUM" --local_worker_num="$DEVICE_NUM" --master_port="${MASTER_PORT:-8118}" \
        --log_dir="$OUTPUT_PATH/msrun_log" --join=True "${ARGS[@]}"
fi
