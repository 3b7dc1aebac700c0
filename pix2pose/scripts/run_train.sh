#!/usr/bin/env bash
# Preprocess and train objects (seed's tool chain): bash scripts/run_train.sh DATA OUT [DATASET] [OBJ...]
# DATASET defaults to tless with cfg/cfg_tless_paper.json; objects default to 1..30.
# CPU, GPU and Ascend run the same command: the NPU config is used when npu_bridge imports.
set -euo pipefail
DATA=${1:?usage: run_train.sh DATA OUT [DATASET] [OBJ...]}
OUT=${2:?usage: run_train.sh DATA OUT [DATASET] [OBJ...]}
DATASET=${3:-tless}
shift $(( $# < 3 ? $# : 3 ))
OBJS=${*:-$(seq 1 30)}
HERE=$(cd "$(dirname "$0")/.." && pwd)
CFG=${PIX2POSE_CFG:-$HERE/src/tools/cfg/cfg_tless_paper.json}
T=$HERE/src/tools
export PYOPENGL_PLATFORM=${PYOPENGL_PLATFORM:-osmesa}
[ -f "$OUT/models_xyz/norm_factor.json" ] || python "$T/2_1_ply_file_to_3d_coord_model.py" --data_path="$DATA" --output_path="$OUT" "$CFG" "$DATASET"
for o in $OBJS; do
  nn=$(printf "%02d" "$o")
  [ -d "$OUT/train_xyz/$nn" ] || python "$T/2_2_render_pix2pose_training.py" --data_path="$DATA" --output_path="$OUT" --obj_id "$o" "$CFG" "$DATASET"
  python "$T/3_train_pix2pose.py" --data_path="$DATA" --output_path="$OUT" --obj_id="$nn" --cfg "$CFG" --dataset "$DATASET"
  python "$T/4_convert_weights_inference.py" --output_path="$OUT" --obj_id "$o" --cfg "$CFG"
done
