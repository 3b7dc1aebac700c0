#!/bin/bash
# MultiTaskNet inputs (pose_<set>.csv, heatmap_<set>/, segment_<set>/) on GPU. Log: trans.log.
# DATA_PATH is MultiTaskNet's data folder (label_{train,query,test}.csv, image_{train,query,test}/).
# Usage: bash scripts/run_trans_gpu.sh [DATA_PATH] [CKPT_PATH] [DEVICE_ID] [trans.py args...]
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "Usage: bash scripts/run_trans_gpu.sh [DATA_PATH] [CKPT_PATH] [DEVICE_ID] [trans.py args...]"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA_PATH=$(realpath "$1")
CKPT_PATH=$(realpath "$2")
export DEVICE_ID=$3
shift 3
cd "$ROOT"
python trans.py --cfg config.yaml --data_dir "$DATA_PATH" --ckpt_path "$CKPT_PATH" \
    --device_target GPU --device_id "$DEVICE_ID" "$@" 2>&1 | tee trans.log
