#!/bin/bash
# Single-process training on the CPU.
# Usage: bash scripts/run_standalone_train_cpu.sh [DATA_PATH] [OUTPUT_PATH] [train.py args...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA_PATH=${1:-$ROOT/data/coco}
OUTPUT_PATH=${2:-$ROOT/train_standalone}
shift $(( $# < 2 ? $# : 2 ))
mkdir -p "$OUTPUT_PATH"
cd "$ROOT"
python train.py --device_target CPU --data_url "$DATA_PATH" --train_url "$OUTPUT_PATH" "$@" \
    2>&1 | tee "$OUTPUT_PATH/train.log"
