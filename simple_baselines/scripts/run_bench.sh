#!/bin/bash
# Benchmarks (make bench): writes a flat JSON of measurements to OUT_JSON (see src/bench.py).
# Usage: bash scripts/run_bench.sh OUT_JSON
set -euo pipefail
if [ $# -ne 1 ]; then
    echo "Usage: bash scripts/run_bench.sh OUT_JSON"
    exit 1
fi
OUT=$(realpath "$1")
cd "$(dirname "$0")/.."
python -m src.bench "$OUT"
