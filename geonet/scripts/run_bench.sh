#!/usr/bin/env bash
# Benchmark of the default configuration: bash scripts/run_bench.sh OUT_JSON (see bench.py).
set -euo pipefail
OUT=$(cd "$(dirname "${1:?usage: run_bench.sh OUT_JSON}")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=2
python bench.py --out "$OUT"
