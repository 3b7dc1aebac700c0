#!/bin/bash
# Data-parallel training on Ascend with a rank table: one process per device listed in it.
# Logs: device<i>/train<i>.log (grep "loss is" device0/train0.log).
# Usage: bash scripts/run_distribute_train_ascend.sh [DATA_PATH] [pretrain_path|none] [RANK_TABLE] [train.py args...]
# example: bash scripts/run_distribute_train_ascend.sh ../data/ PoseEstNet_pretrained.ckpt /path/rank_table.json
set -euo pipefail
if [ $# -lt 3 ]; then
    echo "Usage: bash scripts/run_distribute_train_ascend.sh [DATA_PATH] [pretrain_path|none] [RANK_TABLE] [train.py args...]"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA_PATH=$(realpath "$1")
PRETRAINED=$2
RANK_TABLE_FILE=$(realpath "$3")
[ -f "$RANK_TABLE_FILE" ] || { echo "rank table not found: $3"; exit 1; }
shift 3
PRE=(--pre_trained False)
[ "$PRETRAINED" != "none" ] && PRE=(--pre_trained True --pre_ckpt_path "$(realpath "$PRETRAINED")")
export RANK_TABLE_FILE
RANK_SIZE=$(python -c "import json,sys; t=json.load(open(sys.argv[1])); \
print(sum(len(s['device']) for s in t['server_list']))" "$RANK_TABLE_FILE")
export RANK_SIZE
cd "$ROOT"
pids=()
for ((i = 0; i < RANK_SIZE; i++)); do
    mkdir -p "device$i"
    RANK_ID=$i DEVICE_ID=$i python train.py --cfg config.yaml --data_dir "$DATA_PATH" \
        --device_target Ascend --distribute True --ckpt_dir ckpt "${PRE[@]}" "$@" \
        > "device$i/train$i.log" 2>&1 &
    pids+=($!)
done
echo "started $RANK_SIZE processes; logs in device*/train*.log"
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
