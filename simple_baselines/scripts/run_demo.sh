#!/bin/bash
# Demo (make demo): synthetic COCO -> brief CPU training -> COCO AP with ground-truth and
# detection boxes vs the mean-pose baseline -> MINDIR/ONNX export -> inference on one image.
# Usage: bash scripts/run_demo.sh OUT_DIR      (writes OUT_DIR/result.json)
# The reduced configuration (configs/demo_cpu.json: ResNet-18 at quarter width, 128x96 input,
# milder augmentation, 20 short epochs) and one person per image keep this within a few minutes
# on two CPU cores; the default configuration is the paper's.
set -euo pipefail
if [ $# -ne 1 ]; then
    echo "Usage: bash scripts/run_demo.sh OUT_DIR"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
DATA=$OUT/data
cd "$ROOT"

rm -rf "$DATA" "$OUT/train"
posekit synth coco --out "$DATA" --train 600 --val 40 --seed 1 --max-people 1 --occlusion 0.15
python train.py --device_target CPU --data_url "$DATA" --train_url "$OUT/train" \
    --config_file configs/demo_cpu.json --log_interval 75
CKPT=$(ls "$OUT"/train/simple_baselines-*.ckpt | tail -n 1)
CFG=$OUT/train/config.json
EVAL=(--device_target CPU --data_url "$DATA" --config_file "$CFG")
python eval.py "${EVAL[@]}" --ckpt_file "$CKPT" --use_gt_bbox True --output_dir "$OUT/eval_gt"
python eval.py "${EVAL[@]}" --baseline mean_pose --use_gt_bbox True --output_dir "$OUT/eval_gt"
python eval.py "${EVAL[@]}" --ckpt_file "$CKPT" --use_gt_bbox False --output_dir "$OUT/eval_det" \
    --gallery 0
python eval.py "${EVAL[@]}" --baseline mean_pose --use_gt_bbox False --output_dir "$OUT/eval_det" \
    --gallery 0
python export.py --ckpt_file "$CKPT" --config_file "$CFG" --file_name "$OUT/simple_baselines" \
    --file_format MINDIR
python export.py --ckpt_file "$CKPT" --config_file "$CFG" --file_name "$OUT/simple_baselines" \
    --file_format ONNX
python infer.py --mindir "$OUT/simple_baselines.mindir" --config_file "$CFG" \
    --image "$DATA/val2017/000001000000.jpg" --image_id 1000000 --min_score 0.5 \
    --bbox_file "$DATA/person_detection_results/COCO_val2017_detections_AP_H_56_person.json" \
    --output "$OUT/infer"

python - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
def load(path):
    with open(f"{out}/{path}") as f:
        return json.load(f)
gt, gt_base = load("eval_gt/metrics.json"), load("eval_gt/metrics_mean_pose.json")
det, det_base = load("eval_det/metrics.json"), load("eval_det/metrics_mean_pose.json")
result = {
    "metrics": {"ap_gt_boxes": gt["AP"], "ap50_gt_boxes": gt["AP50"], "ap_det_boxes": det["AP"]},
    "baseline": {"ap_gt_boxes": gt_base["AP"], "ap50_gt_boxes": gt_base["AP50"],
                 "ap_det_boxes": det_base["AP"]},
    "pictures": ["eval_gt/gallery.png", "infer.png"],
}
with open(f"{out}/result.json", "w") as f:
    json.dump(result, f, indent=2)
print(f"simple_baselines demo: AP (ground-truth boxes) {gt['AP']:.3f} vs mean-pose baseline "
      f"{gt_base['AP']:.3f}; AP (detection boxes) {det['AP']:.3f} vs {det_base['AP']:.3f}")
PY
