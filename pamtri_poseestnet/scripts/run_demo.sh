#!/bin/bash
# The CPU demo (make demo): synthetic VeRi in the real layout -> short training of a narrow HRNet
# (config_demo.yaml) -> both PCK tables on every test image -> ONNX + MINDIR export -> inference
# on one image -> MultiTaskNet inputs (trans) for the query set -> OUT_DIR/result.json.
# Usage: bash scripts/run_demo.sh OUT_DIR
set -euo pipefail
if [ $# -ne 1 ]; then
    echo "Usage: bash scripts/run_demo.sh OUT_DIR"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
cd "$ROOT"
CFG=config_demo.yaml
DATA=$OUT/data/veri
MT=$OUT/data/multitask
step() { echo "== [$(date +%T)] $*"; }

rm -rf "$OUT/data" "$OUT/ckpt" "$OUT/eval" "$OUT/infer" "$OUT/export"
step "synthetic VeRi (posekit synth veri)"
python -m posekit.cli synth veri --out "$DATA" --train 200 --test 30 --views 4 --frame 96 \
    --seed 5 --multitask "$MT"
step "train ($CFG)"
python train.py --cfg "$CFG" --data_dir "$DATA" --device_target CPU --ckpt_dir "$OUT/ckpt" \
    --log_interval 25
CKPT=$(ls "$OUT"/ckpt/PoseEstNet-*.ckpt | sort -V | tail -1)
step "evaluate $CKPT"
python eval.py --cfg "$CFG" --data_dir "$DATA" --ckpt_path "$CKPT" --device_target CPU \
    --output_dir "$OUT/eval" --gallery 12
step "export ONNX and MINDIR"
mkdir -p "$OUT/export"
python export.py --cfg "$CFG" --ckpt_path "$CKPT" --file_format ONNX --file_name "$OUT/export/PoseEstNet"
python export.py --cfg "$CFG" --ckpt_path "$CKPT" --file_format MINDIR --file_name "$OUT/export/PoseEstNet"
IMAGES=("$DATA"/images/image_test/*.jpg)
IMAGE=${IMAGES[0]}
step "infer $IMAGE"
python infer.py --image "$IMAGE" --ckpt_path "$CKPT" --cfg "$CFG" --output_dir "$OUT/infer"
step "trans (MultiTaskNet inputs, query set)"
python trans.py --cfg "$CFG" --ckpt_path "$CKPT" --data_dir "$MT" --sets query \
    --device_target CPU --overwrite
STEM=$(basename "$IMAGE" .jpg)
step "result.json"
python src/utils/demo_result.py --data_dir "$DATA" --eval_dir "$OUT/eval" \
    --out "$OUT/result.json" --pictures eval/gallery.png "infer/${STEM}_keypoints.png"
step "done"
