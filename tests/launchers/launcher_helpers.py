"""Driving real searches (search-init / search-run / search-ctl as subprocesses) for the launcher tests."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional

import yaml

from gml.search.task.jobs import Job
from gml.search.task.store import Store

BIN = os.path.dirname(sys.executable)
REPORT = "python -c \"import gml, sys; gml.report(step=0, acc=float(sys.argv[1]))\" {x}"


def env() -> Dict[str, str]:
    return dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))


def srun_env(**extra: str) -> Dict[str, str]:
    """Environment for tools/slurm_train.sh / slurm_test.sh on the test cluster: two CPU tasks (no GRES on the CPU
    partition), one thread each, a free rendezvous port, outside any gml search; ``extra`` added."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    environment = dict(os.environ, PORT=str(port), GPUS="2", CPUS_PER_TASK="1", GRES="", PYTHON=sys.executable,
                       OMP_NUM_THREADS="1")
    for name in ("GML_JOB_DIR", "GML_TASK", "GML_JOB_ID"):
        environment.pop(name, None)
    environment.update(extra)
    return environment


def project(tmp_path, launcher: dict, template: str, values: list, parallel: int = 2,
            per_job: Optional[str] = None) -> str:
    root = tmp_path / "proj"
    root.mkdir()
    stop = {"max_tries": 100}
    if per_job:
        stop["time_limits_per_job"] = per_job
    cfg = {"task": {"template": template, "search_args": [{"type": "Categorical", "name": "x", "data": values}]},
           "searcher": {"type": "GridSearcher", "reward_attribute": "acc"},
           "scheduler": {"parallel_size": parallel, "stop_criterion": stop, "launcher": launcher},
           "generate_log": True}
    (root / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    subprocess.run([os.path.join(BIN, "search-init")], cwd=root, env=env(), check=True, capture_output=True)
    return str(root)


def run(root: str, task: str, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([os.path.join(BIN, "search-run"), "-t", task, "cfg.yaml", *extra], cwd=root, env=env(),
                          capture_output=True, text=True, timeout=timeout)


def start(root: str, task: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([os.path.join(BIN, "search-run"), "-t", task, "cfg.yaml", *extra], cwd=root,
                            env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def ctl(root: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([os.path.join(BIN, "search-ctl"), *args], cwd=root, env=env(), capture_output=True,
                          text=True, timeout=60)


def task_dir(root: str, task: str) -> str:
    return os.path.join(root, ".search-run", "tasks", task)


def jobs(root: str, task: str) -> List[Job]:
    store = Store(os.path.join(task_dir(root, task), "state.db"), readonly=True)
    try:
        return store.jobs()
    finally:
        store.close()


def assert_own_working_directory(root: str, task: str, job: Job) -> None:
    """The job ran in its own working directory (jobs/all/<i>/cwd), where a template's ``pwd > here`` wrote."""
    cwd = os.path.join(task_dir(root, task), "jobs", "all", str(job.id), "cwd")
    assert job.run_path == cwd
    with open(os.path.join(cwd, "here")) as f:
        assert f.read().strip() == cwd
    assert not os.path.exists(os.path.join(task_dir(root, task), "code", "here"))


def wait_for(what: Callable[[], bool], timeout: float, message: str, step: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if what():
            return
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def running(root: str, task: str, n: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return sum(j.status.value == "RUNNING" and bool(j.external_id) for j in jobs(root, task)) >= n
        except Exception:
            return False
    return check


def kill9(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def finish(proc: subprocess.Popen, timeout: float = 120) -> str:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        raise AssertionError(f"search-run did not end within {timeout}s:\n{out}")
    return out


def which(name: str) -> bool:
    return shutil.which(name) is not None
