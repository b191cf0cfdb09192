"""A stock OpenMMLab script that never imports gml (mmcls's own tools/train.py) runs in gml's environment.

mmcv 1.x imports torchvision at module level; gml's environment has none (no CPU build for this torch), so the
stand-in must reach code that never imports gml: tools/setup_env.sh writes a .pth file for that
(gml/torchvision_stand_in.py)."""
import os
import subprocess
import sys
import sysconfig

import pytest

from gml.torchvision_stand_in import PTH_NAME

mmcls = pytest.importorskip("mmcls")

STOCK_TRAIN = os.path.join(os.path.dirname(mmcls.__file__), ".mim", "tools", "train.py")


def _real_torchvision_importable():
    code = "import torchvision, gml.torchvision_stand_in as s; raise SystemExit(s.is_stand_in(torchvision))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_stock_mmcls_train_py_runs_unchanged(tmp_path, mm):
    if _real_torchvision_importable():
        pytest.skip("a real torchvision is installed here; nothing stands in for it")
    pth = os.path.join(sysconfig.get_paths()["purelib"], PTH_NAME)
    assert os.path.isfile(pth), f"{pth} is missing: tools/setup_env.sh writes it"
    assert os.path.isfile(STOCK_TRAIN), STOCK_TRAIN
    config = os.path.join(mm.CONFIGS, "digits", "resnet18_digits.py")
    env = mm.child_env()
    env.pop("PYTHONPATH")            # a user's codebase: gml only as the installed package
    proc = subprocess.run([sys.executable, STOCK_TRAIN, config, "--work-dir", str(tmp_path / "work"),
                           "--cfg-options", *mm.tiny_options(epochs=1)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (tmp_path / "work" / "epoch_1.pth").is_file()
    (row,) = mm.val_log(tmp_path / "work")
    assert "accuracy_top-1" in row


def test_without_the_pth_a_stock_script_cannot_import_mmcv(tmp_path):
    """The .pth is what makes the difference: with site-packages' .pth files skipped (-S), mmcv fails to import."""
    if _real_torchvision_importable():
        pytest.skip("a real torchvision is installed here")
    purelib = sysconfig.get_paths()["purelib"]
    code = f"import sys; sys.path.append({purelib!r}); import mmcv.runner"
    proc = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode != 0 and "torchvision" in proc.stderr
