#!/usr/bin/env bash
# Accuracy run (the seed's entry point): full training, then test_pose on sequence 09 at step
# 185000 (the seed's choice) and the snippet ATE.
#   bash test/train_full_1p.sh --data_path=/home/yhm --output_path=/home/yhm/output
# data_path holds stageone/train/ (prepared, seq_length 5 for pose), stageone/test/ (KITTI
# odometry tree with sequences/09) and stageone/eval/09_snippets/ (ground-truth snippets; made
# here if missing).
set -euo pipefail
data_path="" output_path="" extra=()
for arg in "$@"; do
  case $arg in
    --data_path=*) data_path=${arg#*=} ;;
    --output_path=*) output_path=${arg#*=} ;;
    *) extra+=("$arg") ;;
  esac
done
[ -n "$data_path" ] && [ -n "$output_path" ] || { echo "usage: $0 --data_path=DIR --output_path=DIR" >&2; exit 2; }
cd "$(dirname "$0")/.."
log_dir=test/output/0
mkdir -p "$log_dir" "$output_path/ckpt"
python geonet_main.py --mode=train_rigid --dataset_dir="$data_path/stageone/train/" \
  --checkpoint_dir="$output_path/ckpt" --learning_rate=0.00001 --seq_length=5 --batch_size=4 \
  --max_steps=210100 "${extra[@]}" 2>&1 | tee "$log_dir/train_full.log"
gt="$data_path/stageone/eval/09_snippets"
[ -d "$gt" ] || python kitti_eval/generate_pose_snippets.py --dataset_dir="$data_path/stageone/test/" \
  --output_dir="$gt" --seq_id=9 --seq_length=5
python geonet_main.py --mode=test_pose --dataset_dir="$data_path/stageone/test/" \
  --init_ckpt_file="$output_path/ckpt/model-185000" --batch_size=1 --seq_length=5 \
  --pose_test_seq=9 --output_dir="$output_path/pose/"
python kitti_eval/eval_pose.py --gtruth_dir="$gt" --pred_dir="$output_path/pose/" \
  | tee -a "$log_dir/train_full.log"
