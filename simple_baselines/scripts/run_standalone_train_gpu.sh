#!/bin/bash
# Single-device training on GPU.
# Usage: bash scripts/run_standalone_train_gpu.sh DEVICE_ID [DATA_PATH] [OUTPUT_PATH] [train.py args...]
set -euo pipefail
if [ $# -lt 1 ]; then
    echo "Usage: bash scripts/run_standalone_train_gpu.sh DEVICE_ID [DATA_PATH] [OUTPUT_PATH] [train.py args...]"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEVICE_ID=$1
DATA_PATH=${2:-$ROOT/data/coco}
OUTPUT_PATH=${3:-$ROOT/train_standalone}
shift $(( $# < 3 ? $# : 3 ))
mkdir -p "$OUTPUT_PATH"
cd "$ROOT"
DEVICE_ID=$DEVICE_ID python train.py --device_target GPU --device_id "$DEVICE_ID" \
    --data_url "$DATA_PATH" --train_url "$OUTPUT_PATH" "$@" 2>&1 | tee "$OUTPUT_PATH/train.log"
