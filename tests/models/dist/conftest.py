"""Fixtures for the 2-process tests: real child processes under ``torch.distributed.run`` (gloo on CPU).

``dist_train(config, work_dir, *options)`` trains ``config`` with tools/dist_train.sh on 2 processes, with
:class:`gml_rank_probe.RankProbeHook` added (a config that inherits ``config``), and returns the finished
process; ``torchrun(script, *args)`` runs a python script on 2 processes.
"""
import os
import socket
import subprocess
import sys
import types

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)
from gml_rank_probe import differing, probed_config, rank_params  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra):
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([ROOT, HERE]),
               PYTHON=sys.executable, PORT=str(_free_port()))
    for key in ("GML_JOB_DIR", "GML_TASK", "GML_JOB_ID"):
        env.pop(key, None)
    env.update(extra)
    return env


def _check(proc, what):
    if proc.returncode != 0:
        raise AssertionError(f"{what} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture
def dist_train(tmp_path):
    def run(config, work_dir, *options, timeout=500):
        command = ["bash", os.path.join(ROOT, "tools", "dist_train.sh"), probed_config(config, tmp_path), "2",
                   "--work-dir", str(work_dir), "--seed", "0", "--cfg-options", *options]
        return _check(subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True,
                                     timeout=timeout), "dist_train.sh")
    return run


@pytest.fixture
def rank_probe():
    """gml_rank_probe's readers: ``rank_probe.rank_params(work_dir)``, ``rank_probe.differing(rank0, rank1)``."""
    return types.SimpleNamespace(rank_params=rank_params, differing=differing)


@pytest.fixture
def torchrun():
    def run(script, *args, timeout=120):
        command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
                   f"--master_port={_free_port()}", os.path.join(HERE, script), *args]
        return _check(subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True,
                                     timeout=timeout), script)
    return run
