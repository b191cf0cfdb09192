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


class MlflowTrackingServer:
    """A real ``mlflow server`` child process (backend: SQLite in a temporary folder) on a free local port.
    ``stop()`` ends it (the whole process group it started), ``start()`` starts it again on the same port and
    store: a server that is down for a while."""

    def __init__(self, folder):
        import socket
        self.folder = folder
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, timeout: float = 180.0) -> None:
        import subprocess
        import sys
        import time
        import urllib.request
        env = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")   # no background job workers
        log = open(os.path.join(self.folder, "server.log"), "ab")
        self.process = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "mlflow"), "server", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", "1",
             "--backend-store-uri", f"sqlite:///{os.path.join(self.folder, 'mlflow.db')}",
             "--default-artifact-root", os.path.join(self.folder, "artifacts")],
            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=1) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        self.stop()
        with open(os.path.join(self.folder, "server.log"), "rb") as f:
            raise RuntimeError(f"mlflow server did not start:\n{f.read()[-3000:].decode(errors='replace')}")

    def stop(self) -> None:
        import signal
        import subprocess
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)      # the group this fixture started (server + uvicorn)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:       # still there after 30 s: kill the group
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A running MLflow tracking server for the session (see :class:`MlflowTrackingServer`); its ``uri``."""
    pytest.importorskip("mlflow.server", reason="the full mlflow package (extra: test) runs the tracking server")
    server = MlflowTrackingServer(str(tmp_path_factory.mktemp("mlflow-server")))
    server.start()
    yield server
    server.stop()
