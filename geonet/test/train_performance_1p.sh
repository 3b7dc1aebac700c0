#!/usr/bin/env bash
# Performance run (the seed's entry point): a short training on the prepared data, then the mean
# time per iteration and images/s from the log.
#   bash test/train_performance_1p.sh --data_path=/home/yhm --output_path=/home/yhm/output
# data_path holds stageone/train/ (GeoNet's prepared format); other flags pass to geonet_main.py.
set -euo pipefail
data_path="" output_path="" extra=()
for arg in "$@"; do
  case $arg in
    --data_path=*) data_path=${arg#*=} ;;
    --output_path=*) output_path=${arg#*=} ;;
    *) extra+=("$arg") ;;
  esac
done
[ -n "$data_path" ] && [ -n "$output_path" ] || { echo "usage: $0 --data_path=DIR --output_path=DIR" >&2; exit 2; }
cd "$(dirname "$0")/.."
log_dir=test/output/0
mkdir -p "$log_dir" "$output_path/ckpt_perf"
python geonet_main.py --mode=train_rigid --dataset_dir="$data_path/stageone/train/" \
  --checkpoint_dir="$output_path/ckpt_perf" --learning_rate=0.00001 --seq_length=3 \
  --batch_size=4 --max_steps=1000 --log_freq=100 --save_ckpt_freq=1000 "${extra[@]}" \
  2>&1 | tee "$log_dir/train_perf.log"
python - "$log_dir/train_perf.log" <<'PY'
import re, sys
rows = [l for l in open(sys.argv[1]) if l.startswith("Iteration:")][1:]  # first window: warm-up
t = [float(re.search(r"Time: ([0-9.]+)s/iter", l).group(1)) for l in rows]
fps = [float(re.search(r"\| ([0-9.]+) images/s", l).group(1)) for l in rows]
if t:
    print(f"TrainingTime per iter: {sum(t) / len(t):.4f} s | FPS: {sum(fps) / len(fps):.2f} images/s")
PY
