"""Helpers for running gml's tools (tools/train.py, tools/test.py) as real child processes on digits.

Tests reach them through the ``mm`` fixture (pytest runs with ``--import-mode=importlib``, so test modules cannot
import this file).
"""
import json
import shutil
import types
import os
import subprocess
import sys

import pytest

pytest.importorskip("mmcv")
pytest.importorskip("mmcls")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
CONFIGS = os.path.join(ROOT, "configs")

# A narrow ResNet-18 on small subsets of digits: a real epoch in a few seconds on 2 CPU cores.
TINY_MODEL = ["backbone.base_channels=8", "backbone.stem_channels=8", "head.in_channels=64"]
TINY_DATA = ["data.train.max_samples=96", "data.val.max_samples=64", "data.test.max_samples=64",
             "data.samples_per_gpu=32", "log_config.interval=1", "lr_config.warmup_iters=2"]


def tiny_options(model_prefix="model.", epochs=1):
    return [model_prefix + o for o in TINY_MODEL] + TINY_DATA + [f"runner.max_epochs={epochs}"]


def child_env(**extra):
    env = dict(os.environ)
    env.pop("GML_JOB_DIR", None)
    env.pop("GML_TASK", None)
    env.pop("GML_JOB_ID", None)
    env.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": ROOT})
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


def run_tool(tool, *args, env=None, check=True, timeout=300):
    proc = subprocess.run([sys.executable, os.path.join(TOOLS, tool), *args], cwd=ROOT, env=env or child_env(),
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{tool} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


BIN = os.path.dirname(sys.executable)


def search_project(tmp_path):
    """A project folder for a real search: a copy of the repository's tools/ and configs/ (jobs run from it, as a
    user's do from their checkout). Skips the test when gml's console scripts are not installed."""
    if not os.path.exists(os.path.join(BIN, "search-run")):
        pytest.skip("gml's console scripts are not installed next to this python")
    project = tmp_path / "project"
    project.mkdir()
    for part in ("tools", "configs"):
        shutil.copytree(os.path.join(ROOT, part), project / part)
    return project


def search_cli(name, *args, cwd, timeout=400):
    """Run gml's console script ``name`` (search-init, search-run, search-ctl) in ``cwd``; it must succeed."""
    proc = subprocess.run([os.path.join(BIN, name), *args], cwd=cwd, env=child_env(), capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f"{name} {args}: {proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc


def run_search(project, config, task, max_tries=2):
    """Write ``config`` (a search config dict) as ``search.yaml`` in ``project`` with a stop after ``max_tries`` jobs,
    run search-init, search-run and search-ctl show there, and return what search-ctl shows (``task``, ``jobs``
    with their scalars)."""
    import yaml

    config["scheduler"]["stop_criterion"] = {"max_tries": max_tries}
    (project / "search.yaml").write_text(yaml.safe_dump(config))
    search_cli("search-init", cwd=project)
    search_cli("search-run", "--task", task, "search.yaml", cwd=project)
    search_cli("search-ctl", "show", "-t", task, "--scalar", "--out", "shown.yaml", cwd=project)
    return yaml.safe_load((project / "shown.yaml").read_text())


def val_log(work_dir):
    """The 'val' lines of the run's mmcv JSON log, in order."""
    logs = sorted(f for f in os.listdir(work_dir) if f.endswith(".log.json"))
    assert logs, f"no .log.json in {work_dir}"
    rows = []
    with open(os.path.join(work_dir, logs[-1])) as f:
        for line in f:
            row = json.loads(line)
            if row.get("mode") == "val":
                rows.append(row)
    return rows


@pytest.fixture(scope="module", autouse=True)
def _single_torch_thread():
    """In-process work here (building models, loading checkpoints) runs torch with one intra-op thread, as in
    tests/models/conftest.py: on a shared 2-core machine more threads only contend. Restored after each module."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def mm():
    return types.SimpleNamespace(ROOT=ROOT, CONFIGS=CONFIGS, TOOLS=TOOLS, tiny_options=tiny_options,
                                 child_env=child_env, run_tool=run_tool, val_log=val_log,
                                 search_project=search_project, search_cli=search_cli,
                                 run_search=run_search)
