#!/usr/bin/env bash
# Create (or bring up to date) the project's virtual environment in .venv with every dependency pinned by
# constraints.txt. Idempotent: a stamp of constraints.txt + pyproject.toml skips the work when nothing changed.
#
# PIP_CONSTRAINT (not `pip -c`) carries the pins into build environments too: mmcv 1.7.2 builds from source and
# needs setuptools<82 (pkg_resources); torch is pinned to the local 2.13.0 CPU wheel so no CUDA build is pulled.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="${GML_VENV:-$root/.venv}"
stamp="$venv/.gml-stamp"
want=$(cat "$root/constraints.txt" "$root/pyproject.toml" | sha256sum | cut -d' ' -f1)

# Code that never imports gml (a stock OpenMMLab tools/train.py) still gets the torchvision stand-in, from a .pth
# file in site-packages and the tiny start-up module it imports (gml_torchvision_fallback: it loads gml only when
# `import torchvision` finds no real one; see gml/torchvision_stand_in.py); cheap, so written on every run.
install_pth() {
  "$venv/bin/python" -c 'import sysconfig, gml.torchvision_stand_in as s; s.install_pth(sysconfig.get_paths()["purelib"])'
}

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  install_pth
  exit 0
fi
echo "[setup] installing gml and its pinned dependencies into $venv (about 2 minutes the first time)" >&2
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
export PIP_CONSTRAINT="$root/constraints.txt"
export PIP_DISABLE_PIP_VERSION_CHECK=1
pip_q() { "$venv/bin/python" -m pip install --quiet "$@" 2>&1 | grep -v -E "^WARNING: Location .* is ignored" >&2 || true; }
pip_q setuptools wheel
pip_q torch==2.13.0
pip_q -e "$root[all]"
# A failed install above must not be hidden by the grep: check the pieces that matter import.
"$venv/bin/python" -W ignore -c "import torch, mmcv, mmcls, yaml, skopt, optuna, ray, submitit, tensorboard, gml, gml.models" \
  || { echo "[setup] the environment is incomplete (see the pip output above)" >&2; exit 1; }
"$venv/bin/python" - <<'PY'
import torch, sys
if torch.version.cuda is None and "+cpu" not in torch.__version__ and not torch.__version__.startswith("2.13.0"):
    sys.exit(f"unexpected torch build {torch.__version__}")
PY
install_pth
echo "$want" > "$stamp"
