"""The controller side imports without torch, mmcv or the optional searcher libraries (login nodes)."""
import subprocess
import sys

HEAVY = {"torch", "mmcv", "mmcls", "numpy", "scipy", "skopt", "optuna", "ray", "submitit", "tensorboard"}


def heavy_imported_by(code: str) -> str:
    """The HEAVY top-level packages loaded once ``code`` has run in a fresh interpreter, comma-separated."""
    probe = f"{code}; import sys; print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & {HEAVY!r})))"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()


def test_controller_side_imports_stay_light():
    out = heavy_imported_by("import gml, gml.search, gml.launchers, gml.cli.run, gml.cli.ctl, gml.cli.init, "
                            "gml.search.config.build")
    assert out == "", f"imported at controller start: {out}"


def test_gml_report_is_callable_and_versioned():
    import gml
    assert callable(gml.report) and gml.__version__
    import os
    if "GML_JOB_DIR" not in os.environ:
        assert gml.report(step=0, acc=1.0) is False      # outside a search: nothing recorded


def test_conformance_suites_import_light_and_only_on_request():
    """gml.testing (test code only: it imports pytest) is not loaded by ``import gml`` and needs no heavy library."""
    out = heavy_imported_by("import sys, gml; assert 'gml.testing' not in sys.modules and 'pytest' not in sys.modules; "
                            "import gml.testing.searchers, gml.testing.assessors, gml.testing.launchers")
    assert out == "", f"imported by gml.testing: {out}"
