#!/bin/bash
# MultiTaskNet inputs (pose_<set>.csv, heatmap_<set>/, segment_<set>/) on CPU. Log: trans.log.
# Usage: bash scripts/run_trans_cpu.sh [DATA_PATH] [CKPT_PATH] [trans.py args...]
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "Usage: bash scripts/run_trans_cpu.sh [DATA_PATH] [CKPT_PATH] [trans.py args...]"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA_PATH=$(realpath "$1")
CKPT_PATH=$(realpath "$2")
shift 2
cd "$ROOT"
python trans.py --cfg config.yaml --data_dir "$DATA_PATH" --ckpt_path "$CKPT_PATH" \
    --device_target CPU "$@" 2>&1 | tee trans.log
