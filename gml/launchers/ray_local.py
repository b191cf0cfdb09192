"""A local Ray head started on demand for a task: bound to 127.0.0.1, its files under ``<task dir>/ray``.

``ray start --head --block`` runs in its own session so that it outlives a controller killed with -9 (its jobs
keep running and a resumed controller finds the head again through ``<task dir>/ray/head.json``). Unix socket
paths are limited to ~107 bytes, so Ray is given a short symlink in the system temp dir that points at the
task's ``ray`` directory; every file Ray writes lands there. :func:`stop` ends the head and every process it
started (found from its process tree before signalling), never any other Ray on the machine.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Optional

from . import proctree

STATE_FILE = "head.json"
TOKEN_FILE = "auth_token"
START_TIMEOUT = 90.0


class RayStartError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_dir(task_dir: str) -> str:
    return os.path.join(task_dir, "ray")


def short_temp_path(task_dir: str) -> str:
    """The short path Ray is given for ``<task dir>/ray`` (a symlink while the head runs)."""
    digest = hashlib.sha1(os.path.realpath(ray_dir(task_dir)).encode()).hexdigest()[:12]
    return os.path.join(tempfile.gettempdir(), f"gml-ray-{digest}")


def _short_temp_dir(task_dir: str) -> str:
    """A short path (a symlink) to ``<task dir>/ray`` for Ray's sockets."""
    target = ray_dir(task_dir)
    os.makedirs(target, exist_ok=True)
    link = short_temp_path(task_dir)
    if os.path.islink(link) and os.readlink(link) == target:
        return link
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(target, link)
    return link


def _ray_cli() -> list:
    beside = os.path.join(os.path.dirname(sys.executable), "ray")
    if os.path.exists(beside):
        return [beside]
    found = shutil.which("ray")
    if found:
        return [found]
    raise RayStartError("the `ray` command is not installed: pip install 'gml[ray]'")


def read_state(task_dir: str) -> Optional[dict]:
    """The head this task started earlier, if it is still running."""
    try:
        with open(os.path.join(ray_dir(task_dir), STATE_FILE)) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return None
    if not proctree.is_alive(state["pid"], state.get("started")):
        return None
    return state


def start(task_dir: str, num_cpus: Optional[int], num_gpus: Optional[int]) -> dict:
    """Start a head for the task (or return the one already running); waits until its job API answers.
    Returns ``{"address": dashboard URL, "pid", "started", "temp_dir"}``."""
    state = read_state(task_dir)
    if state is not None:
        return state
    temp = _short_temp_dir(task_dir)
    ports = {name: _free_port() for name in ("port", "dashboard-port", "ray-client-server-port",
                                             "dashboard-agent-listen-port", "dashboard-agent-grpc-port",
                                             "metrics-export-port", "node-manager-port", "object-manager-port",
                                             "runtime-env-agent-port")}
    argv = _ray_cli() + ["start", "--head", "--block", "--node-ip-address=127.0.0.1", "--dashboard-host=127.0.0.1",
                         "--include-dashboard=true", f"--temp-dir={temp}", "--disable-usage-stats"]
    argv += [f"--{name}={port}" for name, port in ports.items()]
    if num_cpus is not None:
        argv.append(f"--num-cpus={num_cpus}")
    if num_gpus is not None:
        argv.append(f"--num-gpus={num_gpus}")
    # Ray's token authentication stays on (other users of a login node can reach 127.0.0.1), with the token
    # kept under the task directory instead of Ray's default ~/.ray/auth_token.
    token_path = os.path.join(ray_dir(task_dir), TOKEN_FILE)
    fd = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=token_path)
    env.pop("RAY_AUTH_TOKEN", None)
    env.pop("RAY_ADDRESS", None)
    log_path = os.path.join(ray_dir(task_dir), "head.log")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    address = f"http://127.0.0.1:{ports['dashboard-port']}"
    state = {"address": address, "pid": proc.pid, "started": proctree.start_time(proc.pid), "temp_dir": temp,
             "gcs": f"127.0.0.1:{ports['port']}"}
    tmp = os.path.join(ray_dir(task_dir), STATE_FILE + ".tmp")
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, os.path.join(ray_dir(task_dir), STATE_FILE))
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RayStartError(f"ray start exited with code {proc.returncode}; see {log_path}")
        if _answers(address, auth_headers(task_dir)):
            return state
        time.sleep(0.25)
    stop(task_dir)
    raise RayStartError(f"the local Ray head did not answer within {START_TIMEOUT:.0f}s; see {log_path}")


def auth_headers(task_dir: str) -> dict:
    """The HTTP header that authenticates a client to the task's head."""
    try:
        with open(os.path.join(ray_dir(task_dir), TOKEN_FILE)) as f:
            return {"Authorization": f"Bearer {f.read().strip()}"}
    except OSError:
        return {}


def _answers(address: str, headers: dict) -> bool:
    import urllib.request
    try:
        with urllib.request.urlopen(urllib.request.Request(address + "/api/version", headers=headers),
                                    timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def stop(task_dir: str, grace: float = 10.0) -> None:
    """End the task's head and everything it started (jobs' processes included)."""
    try:
        with open(os.path.join(ray_dir(task_dir), STATE_FILE)) as f:
            state = json.load(f)
    except (OSError, ValueError):
        return
    pid = state["pid"]
    if proctree.is_alive(pid, state.get("started")):
        # collect the whole tree first: workers re-parent to init once the raylet is gone
        extra = set(proctree.descendants(pid))

        def reap() -> None:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        proctree.end_tree(pid, grace, reap=reap)
        proctree.signal_tree(pid, [p for p in extra if proctree.start_time(p) is not None], 9)
    try:
        os.remove(os.path.join(ray_dir(task_dir), STATE_FILE))
    except FileNotFoundError:
        pass
    link = state.get("temp_dir")
    if link and os.path.islink(link):
        os.remove(link)
