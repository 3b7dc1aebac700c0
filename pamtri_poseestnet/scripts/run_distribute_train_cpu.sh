#!/bin/bash
# Data-parallel training on CPU with RANK_SIZE processes under msrun (one data shard each;
# rank 0 writes the checkpoints). Logs: distribute_train_log/worker_<i>.log and
# distribute_train.log. MASTER_PORT (default 8119) must be free.
# Usage: bash scripts/run_distribute_train_cpu.sh [DATA_PATH] [pretrain_path|none] [RANK_SIZE] [train.py args...]
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "Usage: bash scripts/run_distribute_train_cpu.sh [DATA_PATH] [pretrain_path|none] [RANK_SIZE] [train.py args...]"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA_PATH=$(realpath "$1")
PRETRAINED=$2
RANK_SIZE=$3
shift 3
PRE=(--pre_trained False)
[ "$PRETRAINED" != "none" ] && PRE=(--pre_trained True --pre_ckpt_path "$(realpath "$PRETRAINED")")
cd "$ROOT"
msrun --worker_num="$RANK_SIZE" --local_worker_num="$RANK_SIZE" --master_port="${MASTER_PORT:-8119}" \
    --log_dir=distribute_train_log --join=True \
    train.py --cfg config.yaml --data_dir "$DATA_PATH" --device_target CPU --distribute True \
    --ckpt_dir ckpt "${PRE[@]}" "$@" 2>&1 | tee distribute_train.log
