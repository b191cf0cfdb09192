"""Fixtures for the 2-process tests: real child processes under ``torch.distributed.run`` (gloo on CPU).

``dist_train(config, work_dir, *options)`` trains ``config`` with tools/dist_train.sh on 2 processes, with
:class:`gml_rank_probe.RankProbeHook` added (a config that inherits ``config``), and returns the finished
process; ``torchrun(script, *args)`` runs a python script on 2 processes.
"""
import os
import socket
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


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


def probed_config(config: str, directory) -> str:
    """A config file in ``directory`` that is ``config`` (relative to the repository) plus RankProbeHook."""
    path = os.path.join(str(directory), "probed_" + os.path.basename(config))
    with open(path, "w") as handle:
        handle.write(f"_base_ = [{os.path.join(ROOT, config)!r}]\n"
                     "custom_imports = dict(imports=['gml_rank_probe'], allow_failed_imports=False)\n"
                     "custom_hooks = [dict(type='RankProbeHook', priority='LOWEST')]\n")
    return path


@pytest.fixture
def dist_train(tmp_path):
    def run(config, work_dir, *options, timeout=500):
        command = ["bash", os.path.join(ROOT, "tools", "dist_train.sh"), probed_config(config, tmp_path), "2",
                   "--work-dir", str(work_dir), "--seed", "0", "--cfg-options", *options]
        return _check(subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True,
                                     timeout=timeout), "dist_train.sh")
    return run


@pytest.fixture
def torchrun():
    def run(script, *args, timeout=120):
        command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_addr=127.0.0.1",
                   f"--master_port={_free_port()}", os.path.join(HERE, script), *args]
        return _check(subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True,
                                     timeout=timeout), script)
    return run
