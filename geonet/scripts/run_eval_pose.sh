#!/usr/bin/env bash
# Pose evaluation on a KITTI odometry sequence (5-frame snippets, as published).
#   bash scripts/run_eval_pose.sh KITTI_ODOM_DIR CKPT_FILE OUT_DIR [SEQ=9] [flags...]
set -euo pipefail
usage="usage: run_eval_pose.sh KITTI_ODOM_DIR CKPT_FILE OUT_DIR [SEQ] [flags...]"
KITTI=${1:?$usage}
MODEL=${2:?$usage}
OUT=${3:?$usage}
SEQ=${4:-9}
shift $(( $# < 4 ? $# : 4 ))
cd "$(dirname "$0")/.."
python geonet_main.py --mode=test_pose --dataset_dir="$KITTI" --init_ckpt_file="$MODEL" \
  --batch_size=1 --seq_length=5 --pose_test_seq="$SEQ" --output_dir="$OUT/pose_$SEQ" "$@"
python kitti_eval/generate_pose_snippets.py --dataset_dir="$KITTI" \
  --output_dir="$OUT/gt_snippets_$SEQ" --seq_id="$SEQ" --seq_length=5
python kitti_eval/eval_pose.py --gtruth_dir="$OUT/gt_snippets_$SEQ" --pred_dir="$OUT/pose_$SEQ" \
  --dataset_dir="$KITTI" --seq_id="$SEQ" --plot="$OUT/trajectory_$SEQ.png" --json="$OUT/pose_$SEQ.json"
