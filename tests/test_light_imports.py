"""The controller side imports without torch, mmcv or the optional searcher libraries (login nodes)."""
import subprocess
import sys


def test_controller_side_imports_stay_light():
    code = ("import sys, gml, gml.search, gml.launchers, gml.cli.run, gml.cli.ctl, gml.cli.init, gml.search.config.build; "
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
            "{'torch', 'mmcv', 'mmcls', 'numpy', 'scipy', 'skopt', 'optuna', 'ray', 'submitit', 'tensorboard'}); "
            "print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"imported at controller start: {out}"


def test_gml_report_is_callable_and_versioned():
    import gml
    assert callable(gml.report) and gml.__version__
    import os
    if "GML_JOB_DIR" not in os.environ:
        assert gml.report(step=0, acc=1.0) is False      # outside a search: nothing recorded


def test_conformance_suites_import_light_and_only_on_request():
    """gml.testing (test code only: it imports pytest) is not loaded by ``import gml`` and needs no heavy library."""
    code = ("import sys, gml; assert 'gml.testing' not in sys.modules and 'pytest' not in sys.modules; "
            "import gml.testing.searchers, gml.testing.assessors, gml.testing.launchers; "
            "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'torch', 'mmcv', 'mmcls', 'numpy', 'scipy', 'skopt', 'optuna', 'ray', 'submitit'})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"imported by gml.testing: {out}"
