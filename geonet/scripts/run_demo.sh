#!/usr/bin/env bash
# CPU demo: synthetic KITTI odometry -> prepared data -> train_rigid -> pose and depth evaluation
# against the Mean-Odom and constant-depth baselines -> export -> inference on one sample.
#   bash scripts/run_demo.sh OUT_DIR
# Writes OUT_DIR/result.json {"metrics", "baseline", "pictures"}. The network and losses are the
# paper's (but for the mask below); the demo shrinks images (32x104), DispNet's channels (half)
# and steps (2000, about 15 minutes on one core with the convolution-gradient kernels training
# picks: with fewer the snippet ATE stays above Mean-Odom's too often, see README.md), keeping
# the cheap PoseNet at full width (override with
# DEMO_STEPS, DEMO_HEIGHT, DEMO_WIDTH, DEMO_NET_WIDTH, DEMO_POSE_NET_WIDTH, DEMO_FRAMES), trains
# at Adam 2e-3, a tenth of that for the last quarter (the paper: 2e-4 throughout; at 1e-3 the
# pose network needed 4x the steps to reach the same snippet ATE), and leaves pixels warped out
# of view out of the photometric loss (--mask_out_of_view; the paper counts them, which shrinks
# the predicted motion to the outer frames: see README.md).
set -euo pipefail
OUT=$(mkdir -p "${1:?usage: run_demo.sh OUT_DIR}" && cd "$1" && pwd)
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=2 PYOPENGL_PLATFORM="${PYOPENGL_PLATFORM:-osmesa}"
STEPS=${DEMO_STEPS:-2000}
H=${DEMO_HEIGHT:-32}
W=${DEMO_WIDTH:-104}
NET_WIDTH=${DEMO_NET_WIDTH:-0.5}
POSE_NET_WIDTH=${DEMO_POSE_NET_WIDTH:-1.0}
FRAMES=${DEMO_FRAMES:-120}
DATA=$OUT/data/kitti
PREP=$OUT/data/prepared
CKPT=$OUT/ckpt
NET=(--img_height="$H" --img_width="$W" --seq_length=5 --dispnet_encoder=vgg --net_width="$NET_WIDTH"
  --pose_net_width="$POSE_NET_WIDTH" --bn_decay=0.95)
start=$(date +%s)
stamp() { echo "[demo $(( $(date +%s) - start ))s] $*"; }

stamp "rendering synthetic KITTI odometry (sequences 00-02 train, 09 test, $FRAMES frames each)"
rm -rf "$DATA" "$PREP" "$CKPT" "$OUT/pose" "$OUT/gt_snippets" "$OUT/mean_odom" "$OUT/depth" "$OUT/export" "$OUT/infer"
posekit synth kitti --out "$DATA" --sequences 0 1 2 9 --frames "$FRAMES" --width 416 --height 128 --seed 1

stamp "preparing GeoNet training data (5-frame samples at ${H}x${W})"
python data/prepare_train_data.py --dataset_dir="$DATA" --dump_root="$PREP" --seq_length=5 \
  --img_height="$H" --img_width="$W" --sequences 0 1 2 --num_threads=2

stamp "training the rigid stage for $STEPS steps"
python geonet_main.py --mode=train_rigid --dataset_dir="$PREP" --checkpoint_dir="$CKPT" \
  "${NET[@]}" --batch_size=4 --learning_rate=0.002 --lr_drop_step=$((STEPS * 3 / 4)) \
  --mask_out_of_view=true --max_steps="$STEPS" --log_freq=50 \
  --summary_freq=200 --save_ckpt_freq="$STEPS" --num_threads=2
MODEL=$(python -c "import tensorflow as tf, sys; print(tf.train.latest_checkpoint(sys.argv[1]))" "$CKPT")

stamp "pose: 5-frame snippets of sequence 09"
python geonet_main.py --mode=test_pose --dataset_dir="$DATA" --init_ckpt_file="$MODEL" \
  "${NET[@]}" --batch_size=8 --pose_test_seq=9 --output_dir="$OUT/pose"
python kitti_eval/generate_pose_snippets.py --dataset_dir="$DATA" --output_dir="$OUT/gt_snippets" \
  --seq_id=9 --seq_length=5
python kitti_eval/eval_pose.py --gtruth_dir="$OUT/gt_snippets" --pred_dir="$OUT/pose" \
  --dataset_dir="$DATA" --seq_id=9 --plot="$OUT/trajectory_09.png" --json="$OUT/pose_metrics.json"

stamp "depth: every 4th frame of sequence 09 against rendered ground truth"
python - "$DATA" "$FRAMES" > "$OUT/test_files_depth.txt" <<'PY'
import sys
for i in range(2, int(sys.argv[2]) - 2, 4):
    print(f"sequences/09/image_2/{i:06d}.png")
PY
python geonet_main.py --mode=test_depth --dataset_dir="$DATA" --init_ckpt_file="$MODEL" \
  "${NET[@]}" --batch_size=8 --depth_test_split="$OUT/test_files_depth.txt" --output_dir="$OUT/depth"
python kitti_eval/eval_depth.py --pred_file="$OUT/depth/$(basename "$MODEL").npy" \
  --test_file_list="$OUT/test_files_depth.txt" --dataset_dir="$DATA" --json="$OUT/depth_metrics.json"

stamp "baselines: Mean-Odom and constant depth"
python kitti_eval/eval_baselines.py --dataset_dir="$DATA" --train_seqs 0 1 2 --seq_id=9 \
  --gtruth_dir="$OUT/gt_snippets" --out_dir="$OUT/mean_odom" \
  --test_file_list="$OUT/test_files_depth.txt" --json="$OUT/baseline_metrics.json"

stamp "export frozen graphs and infer one sample"
python export.py --ckpt_file="$MODEL" --output_dir="$OUT/export" --img_height="$H" --img_width="$W" \
  --seq_length=5 --dispnet_encoder=vgg --net_width="$NET_WIDTH" --pose_net_width="$POSE_NET_WIDTH"
SEQ09="$DATA/sequences/09/image_2"
python infer.py --export_dir="$OUT/export" --output_dir="$OUT/infer" --image="$SEQ09/000040.png" \
  --snippet "$SEQ09/000038.png" "$SEQ09/000039.png" "$SEQ09/000040.png" "$SEQ09/000041.png" "$SEQ09/000042.png"

python - "$OUT" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
pose = json.load(open(os.path.join(out, "pose_metrics.json")))
depth = json.load(open(os.path.join(out, "depth_metrics.json")))
base = json.load(open(os.path.join(out, "baseline_metrics.json")))
metrics = {
    "ate_snippet_mean": pose["ate_snippet_mean"], "ate_snippet_std": pose["ate_snippet_std"],
    "ate_sim3_rmse": pose["ate_sim3_rmse"], "abs_rel": depth["abs_rel"], "a1": depth["a1"],
}
baseline = {"ate_snippet_mean": base["ate_snippet_mean"], "abs_rel": base["abs_rel"]}
depth_pngs = sorted(glob.glob(os.path.join(out, "depth", "depth_png", "*.png")))[:2]
pictures = ["trajectory_09.png"] + [os.path.relpath(p, out) for p in depth_pngs]
pictures.append("infer/000040_depth.png")
json.dump({"metrics": metrics, "baseline": baseline, "pictures": pictures},
          open(os.path.join(out, "result.json"), "w"), indent=2)
print("GeoNet demo (synthetic KITTI, sequence 09):")
print(f"  ATE (5-frame snippets) {metrics['ate_snippet_mean']:.4f} vs Mean-Odom {baseline['ate_snippet_mean']:.4f}")
print(f"  depth abs rel          {metrics['abs_rel']:.4f} vs constant depth {baseline['abs_rel']:.4f}")
PY
stamp "done: $OUT/result.json"
