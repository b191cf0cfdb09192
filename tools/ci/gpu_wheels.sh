#!/usr/bin/env bash
# The pure-Python packages gml's mm side needs beyond a stock CUDA torch environment (torch, torchvision, numpy,
# scipy, scikit-learn, PyYAML, OpenCV, matplotlib, Pillow, packaging): mmcv 1.7.2 (built here without its C++/CUDA
# ops: gml uses none), mmcls 0.25.0 and their small dependencies, as wheels in .whl/ (or $1), versions from
# constraints.txt. tools/ci/gpu_checks.sh installs them on a machine without network access.
#   bash tools/ci/gpu_wheels.sh [DIR]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dest="${1:-$root/.whl}"
python="${PYTHON:-python3}"
pin() { grep -i -E "^$1==" "$root/constraints.txt" | head -1; }
mkdir -p "$dest"
rm -f "$dest"/*.whl
# PIP_CONSTRAINT reaches mmcv's build (setuptools<82 for pkg_resources); no pip constraint file of the machine
export PIP_CONSTRAINT="$root/constraints.txt" PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
for name in mmcls addict yapf platformdirs setuptools; do  # setuptools: installed only where missing
  "$python" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$dest" "$(pin "$name")"
done
# mmcv 1.7.2 is published as a source archive only: a pure-Python wheel (MMCV_WITH_OPS=0, the default)
MMCV_WITH_OPS=0 "$python" -m pip wheel --quiet --no-deps --no-build-isolation -w "$dest" "$(pin mmcv)"
ls -l "$dest"
du -sh "$dest"
