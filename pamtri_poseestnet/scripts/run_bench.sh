#!/bin/bash
# Benchmarks (make bench): HRNet-W32 training images/s and FLOP utilisation on this machine,
# and the input pipeline's rate against training's (src/utils/benchmark.py). Synthetic VeRi
# images at VeRi-like sizes feed the pipeline. Writes a flat JSON to OUT_JSON.
# Usage: bash scripts/run_bench.sh OUT_JSON
set -euo pipefail
if [ $# -ne 1 ]; then
    echo "Usage: bash scripts/run_bench.sh OUT_JSON"
    exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT_JSON=$(realpath -m "$1")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"
python -m posekit.cli synth veri --out "$WORK/veri" --train 24 --test 1 --views 4 --frame 320 --seed 9
python src/utils/benchmark.py --data_dir "$WORK/veri" --out "$OUT_JSON" --cfg config.yaml --batch 8
