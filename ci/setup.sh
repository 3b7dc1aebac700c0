#!/usr/bin/env bash
# Builds the two framework environments (DESIGN.md section 2). Idempotent: each env records a
# hash of the files that define it and is rebuilt only when that hash changes.
set -euo pipefail
cd "$(dirname "$0")/.."

hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

find_python37() {
  if [ -n "${PYTHON37:-}" ]; then echo "$PYTHON37"; return; fi
  if command -v python3.7 >/dev/null 2>&1 && python3.7 -c 'import sys; assert sys.version_info[:2] == (3, 7)' 2>/dev/null; then
    command -v python3.7; return
  fi
  local p
  for p in "$HOME"/.pyenv/versions/3.7.*/bin/python; do
    [ -x "$p" ] && { echo "$p"; return; }
  done
  return 1
}

ensure_osmesa() {
  # Headless OpenGL for posekit.render (DESIGN.md section 2).
  if ldconfig -p 2>/dev/null | grep -q 'libOSMesa\.so'; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[setup] installing libosmesa6 (headless OpenGL)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q libosmesa6 >/dev/null \
      || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libosmesa6 >/dev/null; }
  else
    echo "[setup] WARNING: libOSMesa not found; install Debian/Ubuntu package 'libosmesa6'" \
         "(or your distribution's OSMesa) for the offscreen renderer." >&2
  fi
}

# build_env DIR PYTHON REQUIREMENT_FILES...
build_env() {
  local dir=$1 py=$2; shift 2
  local want; want=$(hash_of ci/setup.sh common/pyproject.toml "$@" ${AFTER_FRAMEWORK:-})
  if [ -f "$dir/.setup-hash" ] && [ "$(cat "$dir/.setup-hash")" = "$want" ]; then
    echo "[setup] $dir is up to date"; return
  fi
  echo "[setup] building $dir with $("$py" --version 2>&1)"
  [ -x "$dir/bin/python" ] || "$py" -m venv "$dir"
  # pip honours python_requires, so 3.7 gets the last pip/setuptools that support it.
  "$dir/bin/python" -m pip install -q --upgrade pip setuptools wheel
  # Packages that install the same modules as a requirement (the other TensorFlow build) go first.
  [ -z "${REPLACES:-}" ] || "$dir/bin/python" -m pip uninstall -q -y $REPLACES 2>/dev/null || true
  local args=()
  local f; for f in "$@"; do args+=(-r "$f"); done
  "$dir/bin/python" -m pip install -q "${args[@]}"
  "$dir/bin/python" -m pip install -q --no-deps -e common
  [ -z "${AFTER_FRAMEWORK:-}" ] || install_horovod "$dir" "$AFTER_FRAMEWORK"
  echo "$want" > "$dir/.setup-hash"
}

# Horovod compiles against the installed TensorFlow: it needs TF present (no build isolation)
# and its framework switches set, so it cannot go in the same pip call as tensorflow.
install_horovod() {
  echo "[setup] building Horovod against TensorFlow (several minutes the first time; pip caches it)"
  HOROVOD_WITH_TENSORFLOW=1 HOROVOD_WITH_GLOO=1 HOROVOD_WITHOUT_MPI=1 HOROVOD_WITHOUT_PYTORCH=1 \
    HOROVOD_WITHOUT_MXNET=1 "$1/bin/python" -m pip install -q --no-build-isolation -r "$2"
}

ensure_osmesa

ms_reqs=(ci/requirements-ms.txt)
# `make test` needs each model's test-only requirements (e.g. torch for weight-import parity).
model_reqs() {
  local m f; for m in "$@"; do
    for f in "$m/requirements.txt" "$m/requirements-test.txt"; do
      if [ -f "$f" ]; then echo "$f"; fi
    done
  done
}
ms_reqs+=($(model_reqs posenet pamtri_poseestnet simple_baselines))
build_env .venv-ms "$(command -v python3.11 || echo python3)" "${ms_reqs[@]}"

py37=$(find_python37) || {
  echo "[setup] Python 3.7 not found. The TensorFlow 1.15 env needs it: set PYTHON37=/path/to/python3.7," \
       "put python3.7 on PATH, or install it with 'pyenv install 3.7.16'." >&2
  exit 1
}
# The TensorFlow build: the plain wheel by default; TF_VARIANT=onednn installs Intel's oneDNN
# build instead (faster on CPU but leaking memory per step: ci/requirements-tf-onednn.txt).
tf_variant=${TF_VARIANT:-plain}
case $tf_variant in
  plain) REPLACES=intel-tensorflow ;;
  onednn) REPLACES=tensorflow ;;
  *) echo "[setup] TF_VARIANT must be plain or onednn, not '$tf_variant'" >&2; exit 1 ;;
esac
tf_reqs=(ci/requirements-tf.txt "ci/requirements-tf-$tf_variant.txt")
tf_reqs+=($(model_reqs geonet pix2pose))
AFTER_FRAMEWORK=""
[ -f geonet/requirements-horovod.txt ] && AFTER_FRAMEWORK=geonet/requirements-horovod.txt
build_env .venv-tf "$py37" "${tf_reqs[@]}"
