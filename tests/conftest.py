"""Fixtures for every test folder. pytest runs with ``--import-mode=importlib``, so test modules cannot import
each other: what several folders need is shared here, as fixtures asked for by name."""
import os

import pytest


def _pid_alive(pid: int) -> bool:
    """True while process ``pid`` exists and has not ended: a zombie (ended, not yet reaped) counts as gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def _job_processes(root) -> list:
    """Living processes whose environment names a job directory under ``root`` (a project): the jobs of a
    search there and every process they started, wherever they moved to."""
    marker = f"GML_JOB_DIR={root}".encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if marker in f.read() and _pid_alive(int(pid)):
                    found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.fixture
def pid_alive():
    """``pid_alive(pid)``: whether the process is still there (not ended, not a zombie)."""
    return _pid_alive


@pytest.fixture
def processes_of():
    """``processes_of(root)``: the pids of living processes of the jobs of the project at ``root`` (a test that
    ends a search asserts ``processes_of(root) == []``: nothing left behind)."""
    return _job_processes


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A running MLflow tracking server for the session (``gml.testing.mlflow_server.MlflowTrackingServer``)."""
    pytest.importorskip("mlflow.server", reason="the full mlflow package (extra: test) runs the tracking server")
    from gml.testing.mlflow_server import MlflowTrackingServer
    server = MlflowTrackingServer(str(tmp_path_factory.mktemp("mlflow-server")))
    server.start()
    yield server
    server.stop()
