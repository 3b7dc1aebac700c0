#!/usr/bin/env bash
# Shared by the run_*.sh scripts (sourced): paths and the usage check.
# Extra arguments after the documented ones are passed on to the Python script (e.g.
# --dataset_path DIR --max_steps N), so every default in src/config.py can be overridden.
POSENET_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN_ROOT=${RUN_DIR:-$POSENET_DIR}

need_args() {  # need_args GOT WANT USAGE
  if [ "$1" -lt "$2" ]; then
    echo "Usage: bash $(basename "$0") $3 [extra train/eval arguments]" >&2
    exit 1
  fi
}

is_int() {
  case $1 in ''|*[!0-9]*) return 1 ;; *) return 0 ;; esac
}
