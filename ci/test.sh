#!/usr/bin/env bash
# Runs every suite: make demo's runner, posekit under both interpreters, each model in its env.
# Keeps going after a failure so one run shows everything; exits non-zero if any suite failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYOPENGL_PLATFORM="${PYOPENGL_PLATFORM:-osmesa}"
root=$(pwd)
failed=()

run_suite() {  # run_suite NAME ENV DIR
  local name=$1 env=$2 dir=$3
  echo "=== $name ($env) ==="
  (cd "$dir" && "$root/$env/bin/python" -m pytest -q -p no:cacheprovider tests) || failed+=("$name")
}

run_suite "ci (make demo runner)" .venv-ms ci
run_suite "posekit py3.11" .venv-ms common
run_suite "posekit py3.7" .venv-tf common
for m in posenet pamtri_poseestnet simple_baselines; do
  [ -d "$m/tests" ] && run_suite "$m" .venv-ms "$m"
done
for m in geonet pix2pose; do
  [ -d "$m/tests" ] && run_suite "$m" .venv-tf "$m"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED suites: ${failed[*]}" >&2
  exit 1
fi
echo "all suites passed"
