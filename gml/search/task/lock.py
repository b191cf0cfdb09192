"""One controller per task: an exclusive flock on ``controller.lock``, held for the controller's lifetime.

The kernel drops the lock when the holder dies (kill -9 included), so a stale lock never blocks a resume.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from typing import Optional

from ...errors import TaskBusyError


class TaskLock:
    def __init__(self, path: str):
        self.path = path
        self._fd: Optional[int] = None

    def acquire(self, task: str) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = self.holder_info() or {}
            raise TaskBusyError(f"task {task!r} is already running (controller pid {holder.get('pid', '?')} on "
                                f"{holder.get('host', '?')}); stop it with `search-ctl stop -t {task}` or wait")
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def holder_info(self) -> Optional[dict]:
        try:
            with open(self.path) as f:
                return json.loads(f.read() or "null")
        except (OSError, ValueError):
            return None

    def is_held(self) -> bool:
        """Whether some controller holds the lock now (this process's own lock counts)."""
        if self._fd is not None:
            return True
        if not os.path.exists(self.path):
            return False
        fd = os.open(self.path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False
