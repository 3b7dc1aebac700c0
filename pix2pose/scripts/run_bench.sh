#!/usr/bin/env bash
# Benchmarks (make bench): bash scripts/run_bench.sh OUT_JSON
# training images/s (paper 128 x 128 network and the demo's), inference ms per object instance
# (two-stage network + PnP, paper network, 720x540 image), VSD/MSSD/MSPD ms per pose estimate.
set -euo pipefail
OUT=${1:?usage: run_bench.sh OUT_JSON}
HERE=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
export PYOPENGL_PLATFORM=${PYOPENGL_PLATFORM:-osmesa}
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
cd "$HERE"
python -m src.bench --out "$OUT"
