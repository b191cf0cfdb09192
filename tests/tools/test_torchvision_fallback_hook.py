"""The start-up hook that ``gml-torchvision-stand-in.pth`` imports (gml/torchvision_fallback_hook.py, installed as
the top-level module ``gml_torchvision_fallback``): it loads nothing of gml at interpreter start, gives ``import
torchvision`` the stand-in only when no real torchvision is found, stays invisible to availability probes, and is
harmless where gml is gone.

Each test installs the .pth and the hook into a temporary site directory with ``install_pth`` and starts a child
interpreter with ``-S`` (the environment's own site-packages and its .pth files skipped) that adds that directory
with ``site.addsitedir``, as site.py does at start-up."""
import os
import subprocess
import sys
import sysconfig

import pytest

from gml.torchvision_stand_in import HOOK_MODULE, PTH_NAME, install_pth

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_with_hook(tmp_path, code, pythonpath=ROOT, extra_path=None):
    site_dir = tmp_path / "site"
    site_dir.mkdir(exist_ok=True)
    pth = install_pth(str(site_dir))
    assert os.path.basename(pth) == PTH_NAME and (site_dir / f"{HOOK_MODULE}.py").is_file()
    prelude = "import site, sys\n"
    if extra_path:
        prelude += f"sys.path.append({extra_path!r})\n"
    prelude += f"site.addsitedir({str(site_dir)!r})\n"
    env = dict(os.environ, PYTHONPATH=pythonpath)
    return subprocess.run([sys.executable, "-S", "-c", prelude + code], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)


def test_start_up_loads_nothing_of_gml_and_import_torchvision_gets_the_stand_in(tmp_path):
    proc = run_with_hook(tmp_path, """
import importlib.util
assert not [m for m in sys.modules if m == 'gml' or m.startswith('gml.')], 'gml imported at start-up'
assert type(sys.meta_path[-1]).__name__ == 'LazyTorchvisionFallback'
assert importlib.util.find_spec('torchvision') is None      # an availability probe sees no torchvision
import torchvision
from gml.torchvision_stand_in import TorchvisionMissingError, is_stand_in
assert is_stand_in(torchvision)
try:
    import torchvision.ops
except TorchvisionMissingError as err:
    print('missing:', err.name)
""")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "missing: torchvision.ops"


def test_a_real_torchvision_wins_and_gml_stays_unloaded(tmp_path):
    package = tmp_path / "real" / "torchvision"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("REAL = True\n")
    proc = run_with_hook(tmp_path, "import torchvision; assert torchvision.REAL; print('gml' in sys.modules)",
                         pythonpath=os.pathsep.join([str(tmp_path / "real"), ROOT]))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_without_gml_the_hook_is_harmless(tmp_path):
    """gml uninstalled, the hook left behind: start-up is clean and torchvision is simply missing."""
    proc = run_with_hook(tmp_path, "import torchvision", pythonpath=str(tmp_path / "nothing"))
    assert proc.returncode == 1
    assert "ModuleNotFoundError: No module named 'torchvision'" in proc.stderr
    assert "Error processing line" not in proc.stderr


def test_mmcv_imports_through_the_hook(tmp_path):
    """What the .pth is for: mmcv.runner (which imports torchvision at module level) imports with the hook alone."""
    pytest.importorskip("mmcv")
    purelib = sysconfig.get_paths()["purelib"]
    proc = run_with_hook(tmp_path, "import mmcv.runner, torchvision\nfrom gml.torchvision_stand_in import is_stand_in\n"
                                   "print(is_stand_in(torchvision))", extra_path=purelib)
    if proc.returncode == 0 and proc.stdout.strip() == "False":
        pytest.skip("a real torchvision is installed here")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "True"
