"""LocalLauncher: each job is a process group on this machine, optionally holding GPU slots.

A job runs as ``bash -c`` of a small wrapper around its command, in a new session (its own process group, so
Ctrl+C at the controller's terminal does not reach it and ``cancel`` ends the whole group). The wrapper writes the
command's exit code to ``<job_dir>/exit_code`` when it ends, so a job that finishes while no controller is
watching is still known to have succeeded or failed when the controller comes back.

External id: ``<pid>:<start ticks>:<gpu,gpu>``; the start time guards ``adopt`` against pid reuse.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
from typing import Any, Dict, List, Optional

from ..registry import LAUNCHERS
from ..validation import Keyword, invalid, number
from . import proctree
from .base import JobSpec, JobState, Launcher, LaunchError, Status
from .gpus import GpuSlots, visible_gpus
from .wrapper import PID_FILE, clear_exit_code, read_exit_code, status_from_exit, wrapper_body


class _Entry:
    def __init__(self, pid: int, started: Optional[int], gpus: List[str], job_dir: str,
                 proc: Optional[subprocess.Popen]):
        self.pid, self.started, self.gpus, self.job_dir, self.proc = pid, started, gpus, job_dir, proc
        self.cancelled = False
        self.final: Optional[Status] = None


def _gpu_ids(gpus: Any) -> List[str]:
    """The ``gpus`` keyword as GPU ids: a list of ids (ints or strings, e.g. ``[0, 1]`` or ``['0', '1']``)."""
    if not isinstance(gpus, (list, tuple)) or not all(
            isinstance(g, (int, str)) and not isinstance(g, bool) and str(g).strip() for g in gpus):
        raise invalid(Keyword("gpus"), gpus, "a list of GPU ids, e.g. [0, 1] (not the text '0,1')")
    return [str(g).strip() for g in gpus]


@LAUNCHERS.register_module(name="local", aliases=("LocalLauncher",))
class LocalLauncher(Launcher):
    """``gpus_per_job``: 0 (default: CUDA_VISIBLE_DEVICES left as it is), a whole number, or 1/k to pack k jobs
    on a GPU. GPUs come from the controller's CUDA_VISIBLE_DEVICES, else from nvidia-smi. ``kill_grace``: seconds
    between SIGTERM and SIGKILL when a job is ended."""

    poll_interval = 0.1

    def __init__(self, gpus_per_job: float = 0, kill_grace: float = 5.0, gpus: Optional[List[Any]] = None):
        self.slots = GpuSlots(visible_gpus() if gpus is None else _gpu_ids(gpus), gpus_per_job)
        self.kill_grace = number(Keyword("kill_grace"), kill_grace, least=0, what="seconds")
        self._jobs: Dict[str, _Entry] = {}
        self._changed = threading.Event()

    # -- helpers ------------------------------------------------------------------------------------------
    @staticmethod
    def _parse(external_id: str):
        pid, started, gpus = external_id.split(":", 2)
        return int(pid), (int(started) if started else None), [g for g in gpus.split(",") if g]

    def _watch(self, proc: subprocess.Popen) -> None:
        def wait() -> None:
            proc.wait()
            self._changed.set()
        threading.Thread(target=wait, name=f"gml-wait-{proc.pid}", daemon=True).start()

    def _reap(self, entry: _Entry) -> None:
        if entry.proc is not None:
            entry.proc.poll()

    # -- the contract -------------------------------------------------------------------------------------
    def capacity(self) -> Optional[int]:
        return self.slots.free_jobs()

    def submit(self, spec: JobSpec) -> str:
        try:
            gpus = self.slots.take()
        except RuntimeError as err:
            raise LaunchError(str(err)) from None
        env = dict(os.environ)
        env.update(spec.env)
        if self.slots.enabled:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(gpus)
        clear_exit_code(spec.job_dir)
        script = wrapper_body(spec.command, spec.job_dir)
        out = open(spec.log_path, "ab") if spec.log_path else subprocess.DEVNULL
        try:
            proc = subprocess.Popen(["bash", "-c", script], cwd=spec.cwd, env=env, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as err:
            self.slots.release(gpus)
            raise LaunchError(f"cannot start the job: {err}") from None
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        started = proctree.start_time(proc.pid)
        external_id = f"{proc.pid}:{started if started is not None else ''}:{','.join(gpus)}"
        self._jobs[external_id] = _Entry(proc.pid, started, gpus, spec.job_dir, proc)
        self._watch(proc)
        return external_id

    def recover(self, spec: JobSpec) -> Optional[str]:
        try:
            with open(os.path.join(spec.job_dir, PID_FILE)) as f:
                pid = int(f.read().strip())
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read().split(b"\0")
        except (OSError, ValueError):
            return None
        if f"GML_JOB_DIR={spec.job_dir}".encode() not in environ:
            return None   # the pid was reused by another process
        started = proctree.start_time(pid)
        if started is None:
            return None
        gpus = ""
        if self.slots.enabled:
            for item in environ:
                if item.startswith(b"CUDA_VISIBLE_DEVICES="):
                    gpus = item.split(b"=", 1)[1].decode()
        return f"{pid}:{started}:{gpus}"

    def adopt(self, external_id: str, spec: JobSpec) -> bool:
        pid, started, gpus = self._parse(external_id)
        entry = _Entry(pid, started, gpus, spec.job_dir, None)
        self._jobs[external_id] = entry
        if proctree.is_alive(pid, started):
            self.slots.hold(gpus)
            return True
        return False

    def poll(self, external_ids: List[str]) -> Dict[str, Status]:
        return {eid: self._status(eid) for eid in external_ids}

    def _status(self, external_id: str) -> Status:
        entry = self._jobs.get(external_id)
        if entry is None:  # not submitted or adopted by this launcher: judge from the traces it left
            return Status(JobState.LOST, message="unknown to this controller")
        if entry.final is not None:
            return entry.final
        if entry.proc is not None:
            code = entry.proc.poll()
            if code is None:
                return Status(JobState.RUNNING)
        elif proctree.is_alive(entry.pid, entry.started):
            return Status(JobState.RUNNING)
        else:
            code = None
        recorded = read_exit_code(entry.job_dir)
        if recorded is not None:
            code = recorded
        # the job's main command is over: end anything it left behind in its process group
        proctree.signal_tree(entry.pid, (), signal.SIGKILL)
        self.slots.release(entry.gpus)
        status = status_from_exit(code, entry.cancelled) or Status(
            JobState.LOST, message="the job ended while no controller watched it and left no exit code")
        entry.final = status
        return status

    def cancel(self, external_id: str) -> None:
        entry = self._jobs.get(external_id)
        if entry is None:
            pid, started, gpus = self._parse(external_id)
            entry = self._jobs[external_id] = _Entry(pid, started, gpus, "", None)
        if entry.final is not None:
            return
        entry.cancelled = True
        if entry.proc is not None or proctree.is_alive(entry.pid, entry.started):
            proctree.end_tree(entry.pid, self.kill_grace, reap=lambda: self._reap(entry))

    def wait(self, timeout: float) -> bool:
        if self._changed.wait(timeout):
            self._changed.clear()
            return True
        return False
