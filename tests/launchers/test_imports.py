import subprocess
import sys


def test_launchers_import_without_ray_submitit_or_torch():
    code = ("import sys, gml.launchers as L; assert {'local', 'slurm', 'ray'} <= set(L.LocalLauncher and "
            "__import__('gml.registry').registry.LAUNCHERS.names); "
            "print(sorted(m for m in ('ray', 'submitit', 'torch', 'mmcv') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
