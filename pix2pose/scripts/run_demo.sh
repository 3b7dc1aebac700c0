#!/usr/bin/env bash
# Demo (make demo): synthetic BOP data set -> 2_1 -> 2_2 -> train one object briefly on the CPU
# -> 4_convert -> frozen graph -> BOP evaluation (AR, ADD(-S) recall, mean-training-pose
# baseline) -> infer.py on one test image -> OUT_DIR/result.json.
# usage: bash scripts/run_demo.sh OUT_DIR      (PIX2POSE_DEMO_OBJ picks the object, default 3)
set -euo pipefail
OUT=${1:?usage: run_demo.sh OUT_DIR}
HERE=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export PYOPENGL_PLATFORM=${PYOPENGL_PLATFORM:-osmesa}
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
OBJ=${PIX2POSE_DEMO_OBJ:-3}
NN=$(printf "%02d" "$OBJ")
CFG=$HERE/src/tools/cfg/cfg_demo.json
TOOLS=$HERE/src/tools
DATA=$OUT/data
WORK=$OUT/work
rm -rf "$DATA" "$WORK"
cd "$HERE"

echo "== synthetic BOP data set"
python -m posekit.cli synth bop --out "$DATA" --train-per-obj 300 --test-scenes 2 --test-per-scene 15 --seed 0 \
  --upright
echo "== 2_1 coordinate models"
python "$TOOLS/2_1_ply_file_to_3d_coord_model.py" --data_path="$DATA" --output_path="$WORK" "$CFG" synth
echo "== 2_2 training crops (object $OBJ)"
python "$TOOLS/2_2_render_pix2pose_training.py" --data_path="$DATA" --output_path="$WORK" --obj_id "$OBJ" "$CFG" synth
echo "== 3 training"
python "$TOOLS/3_train_pix2pose.py" --data_path="$DATA" --output_path="$WORK" --obj_id="$NN" --cfg "$CFG" \
  --dataset synth --summary "$WORK/train_summary.json"
echo "== 4 inference weights, frozen graph"
python "$TOOLS/4_convert_weights_inference.py" --output_path="$WORK" --obj_id "$OBJ" --cfg "$CFG"
python export.py --output_path="$WORK" --obj_id "$OBJ" --cfg "$CFG"
PB=$WORK/pix2pose_weights/$NN/inference.pb
echo "== 5 evaluation"
python "$TOOLS/5_evaluation_bop_basic.py" --data_path="$DATA" --output_path="$WORK" --cfg "$CFG" --dataset synth \
  --obj_id "$OBJ" --frozen "$OBJ=$PB" --json "$WORK/eval.json" --picture "$OUT/poses.png"
echo "== infer.py on one test image"
BOX=$(python - "$DATA" "$OBJ" <<'PY'
import json, sys
info = json.load(open(sys.argv[1] + "/test/000001/scene_gt_info.json"))
gt = json.load(open(sys.argv[1] + "/test/000001/scene_gt.json"))
k = [g["obj_id"] for g in gt["0"]].index(int(sys.argv[2]))
print(",".join(str(v) for v in info["0"][k]["bbox_visib"]))
PY
)
python infer.py --image "$DATA/test/000001/rgb/000000.png" --bbox "$BOX" --obj_id "$OBJ" --output_path "$WORK" \
  --data_path "$DATA" --cfg "$CFG" --dataset synth --pb "$PB" --out "$OUT/infer.png" > "$WORK/infer.json" || true
cat "$WORK/infer.json"
python - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
ev = json.load(open(os.path.join(out, "work", "eval.json")))
tr = json.load(open(os.path.join(out, "work", "train_summary.json")))
s, b = ev["scores"], ev["baseline_scores"]
pictures = [p for p in ("poses.png", "infer.png") if os.path.exists(os.path.join(out, p))]
result = {
    "metrics": {"adds_recall": s["adds_recall"], "bop_ar": s["ar"], "vsd": s["vsd"], "mssd": s["mssd"], "mspd": s["mspd"],
                "train_images_per_s": round(tr["train_images_per_s"], 1)},
    "baseline": {"adds_recall": b["adds_recall"], "bop_ar": b["ar"]},
    "pictures": pictures,
    "notes": "boxes: " + ev["boxes"] + "; ADD(-S) recall at 0.1 x diameter; baseline: mean training pose",
}
json.dump(result, open(os.path.join(out, "result.json"), "w"), indent=1)
print("ADD(-S)@0.1d recall %.3f (baseline %.3f), BOP AR %.3f (baseline %.3f)"
      % (s["adds_recall"], b["adds_recall"], s["ar"], b["ar"]))
PY
