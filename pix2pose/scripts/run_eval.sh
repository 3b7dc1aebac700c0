#!/usr/bin/env bash
# BOP evaluation of every trained object: bash scripts/run_eval.sh DATA OUT [DATASET]
set -euo pipefail
DATA=${1:?usage: run_eval.sh DATA OUT [DATASET]}
OUT=${2:?usage: run_eval.sh DATA OUT [DATASET]}
HERE=$(cd "$(dirname "$0")/.." && pwd)
CFG=${PIX2POSE_CFG:-$HERE/src/tools/cfg/cfg_tless_paper.json}
export PYOPENGL_PLATFORM=${PYOPENGL_PLATFORM:-osmesa}
python "$HERE/src/tools/5_evaluation_bop_basic.py" --data_path="$DATA" --output_path="$OUT" --cfg "$CFG" \
  --dataset "${3:-tless}" --picture "$OUT/poses.png" --json "$OUT/scores.json"
