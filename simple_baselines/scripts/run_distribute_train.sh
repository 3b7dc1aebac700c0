#!/bin/bash
# Data-parallel training on Ascend with a rank table (one process per device in the table).
# Usage: bash scripts/run_distribute_train.sh RANK_TABLE [DATA_PATH] [OUTPUT_PATH] [train.py args...]
set -euo pipefail
if [ $# -lt 1 ]; then
    echo "Usage: bash scripts/run_distribute_train.sh RANK_TABLE [DATA_PATH] [OUTPUT_PATH] [train.py args...]"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RANK_TABLE_FILE=$(realpath "$1")
[ -f "$RANK_TABLE_FILE" ] || { echo "rank table not found: $1"; exit 1; }
DATA_PATH=${2:-$ROOT/data/coco}
OUTPUT_PATH=${3:-$ROOT/train_parallel}
shift $(( $# < 3 ? $# : 3 ))
export RANK_TABLE_FILE
RANK_SIZE=$(python -c "import json,sys; t=json.load(open(sys.argv[1])); \
print(sum(len(s['device']) for s in t['server_list']))" "$RANK_TABLE_FILE")
export RANK_SIZE
mkdir -p "$OUTPUT_PATH"
cd "$ROOT"
pids=()
for ((i = 0; i < RANK_SIZE; i++)); do
    RANK_ID=$i DEVICE_ID=$i python train.py --device_target Ascend --run_distribute True \
        --data_url "$DATA_PATH" --train_url "$OUTPUT_PATH" "$@" > "$OUTPUT_PATH/train_rank$i.log" 2>&1 &
    pids+=($!)
done
echo "started $RANK_SIZE processes; logs in $OUTPUT_PATH/train_rank*.log"
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
