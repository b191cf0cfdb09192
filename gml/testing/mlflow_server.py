"""A real MLflow tracking server (``mlflow server``, from the full ``mlflow`` package: extra ``test``) as a child
process, for tests and benchmarks of ``metrics_from.mlflow.tracking_uri``."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


class MlflowTrackingServer:
    """A real ``mlflow server`` child process (backend: SQLite in a temporary folder) on a free local port.
    ``stop()`` ends it (the whole process group it started), ``start()`` starts it again on the same port and
    store: a server that is down for a while."""

    def __init__(self, folder):
        self.folder = folder
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.uri = f"http://127.0.0.1:{self.port}"
        self.db = os.path.join(folder, "mlflow.db")          # the server's backend store (SQLite)
        self.process = None

    def start(self, timeout: float = 180.0) -> None:
        env = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")   # no background job workers
        log = open(os.path.join(self.folder, "server.log"), "ab")
        self.process = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "mlflow"), "server", "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", "1",
             "--backend-store-uri", f"sqlite:///{self.db}",
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
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)      # the group this fixture started (server + uvicorn)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:       # still there after 30 s: kill the group
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
