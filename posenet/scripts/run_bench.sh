#!/usr/bin/env bash
# PoseNet benchmark (make bench): bash run_bench.sh OUT_JSON
# Training images/s and FLOP utilisation at 224x224, input pipeline vs training, batch-1
# inference latency MindSpore vs ONNX Runtime; see scripts/bench.py. About 3 minutes on 2 cores.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "Usage: bash run_bench.sh OUT_JSON" >&2
  exit 1
fi
out=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/.."
python scripts/bench.py --out "$out"
