"""The torchvision stand-in: used only where no real torchvision imports; any real use fails clearly."""
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(code, pythonpath=ROOT):
    env = dict(os.environ, PYTHONPATH=pythonpath)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def _real_torchvision_importable():
    # the environment's .pth fallback makes `import torchvision` succeed everywhere: ask whether it is the real one
    return _run("import torchvision, gml.torchvision_stand_in as s; raise SystemExit(s.is_stand_in(torchvision))"
                ).returncode == 0


def test_import_gml_loads_no_mm_stack():
    proc = _run("""
        import sys, gml
        heavy = [m for m in ('torch', 'mmcv', 'mmcls', 'torchvision') if m in sys.modules]
        assert not heavy, heavy
    """)
    assert proc.returncode == 0, proc.stderr


def test_stand_in_lets_mmcv_import_and_fails_clearly_on_use():
    if _real_torchvision_importable():
        pytest.skip("a real torchvision is installed here; the stand-in is not used")
    proc = _run("""
        import gml.models
        import torchvision, mmcv.runner.checkpoint as ckpt
        from mmcv.utils import collect_env
        from gml.torchvision_stand_in import is_stand_in, TorchvisionMissingError
        assert is_stand_in(torchvision)
        assert 'gml.placeholder' in collect_env()['TorchVision']
        assert not hasattr(torchvision, 'models')
        for use in (lambda: ckpt.get_torchvision_models(), lambda: __import__('torchvision.ops'),
                    lambda: exec('from torchvision import transforms')):
            try:
                use()
            except (ImportError, AttributeError) as err:
                assert 'torchvision is needed' in str(err), err
            else:
                raise SystemExit('no error')
        try:
            ckpt.load_checkpoint(None, 'torchvision://resnet18')
        except AttributeError as err:
            assert 'torchvision is needed' in str(err)
        print('ok')
    """)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def test_real_torchvision_wins(tmp_path):
    """Where a torchvision imports (here a minimal one on the path), gml leaves it alone."""
    package = tmp_path / "torchvision"
    package.mkdir()
    (package / "__init__.py").write_text("__version__ = '0.99.0'\nREAL = True\n")
    proc = _run("""
        import gml.models, torchvision
        from gml.torchvision_stand_in import is_stand_in
        assert torchvision.REAL and torchvision.__version__ == '0.99.0' and not is_stand_in(torchvision)
        print('ok')
    """, pythonpath=os.pathsep.join([str(tmp_path), ROOT]))
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def test_stand_in_is_invisible_to_availability_probes_so_lightning_imports():
    """Lightning/torchmetrics probe ``importlib.util.find_spec('torchvision')`` and then import its submodules: the
    probe must see no torchvision (an import statement still gets the stand-in, for mmcv)."""
    import subprocess
    import sys
    code = ("import importlib.util, sys; assert importlib.util.find_spec('torchvision') is None; "
            "import pytorch_lightning; import mmcv.runner.checkpoint; "
            "from gml.torchvision_stand_in import is_stand_in; print(is_stand_in(sys.modules['torchvision']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"
