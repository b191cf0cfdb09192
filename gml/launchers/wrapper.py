"""The job wrapper script every launcher runs: the rendered command in a subshell, its exit code left behind.

The script writes the command's exit code to ``<job_dir>/exit_code`` (atomically, through a rename) when the
command ends, so a launcher knows how a job ended even when no controller (or no scheduler accounting) saw it
end. Cluster launchers write it to ``<job_dir>/job.sh`` and run it there (Slurm: as the batch script, Ray: as the
entrypoint); the script then carries the job's environment itself, moves to the job's working directory, and
clears a stale exit code at the start of each run (a requeued Slurm job runs the script again).
"""
from __future__ import annotations

import os
import shlex
import signal
from typing import Dict, Optional

from .base import JobState, Status

EXIT_FILE = "exit_code"
PID_FILE = ".pid"
SCRIPT_FILE = "job.sh"


def wrapper_body(command: str, job_dir: str) -> str:
    """The part shared by all launchers: record the pid, run ``command``, record its exit code, exit with it."""
    d = shlex.quote(job_dir)
    return (f"printf '%s\\n' \"$$\" > {d}/{PID_FILE}\n"
            f"(\n{command}\n)\n"
            "rc=$?\n"
            f"printf '%s\\n' \"$rc\" > {d}/.{EXIT_FILE}.tmp && mv -f {d}/.{EXIT_FILE}.tmp {d}/{EXIT_FILE}\n"
            "exit $rc\n")


def job_script(command: str, job_dir: str, cwd: str, env: Dict[str, str], log_path: Optional[str] = None,
               redirect_output: bool = False, header: str = "") -> str:
    """A self-contained bash script for a job that runs on another host or under another process: it exports
    ``env``, changes to ``cwd``, optionally appends its output to ``log_path`` (or discards it), clears a stale
    exit code and runs :func:`wrapper_body`."""
    lines = ["#!/bin/bash"]
    if header:
        lines += [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
    lines.append(f"cd {shlex.quote(cwd)} || exit 1")
    if redirect_output:
        lines.append(f"exec >> {shlex.quote(log_path)} 2>&1" if log_path else "exec > /dev/null 2>&1")
    lines.append(f"rm -f {shlex.quote(os.path.join(job_dir, EXIT_FILE))}")
    return "\n".join(lines) + "\n" + wrapper_body(command, job_dir)


def write_job_script(job_dir: str, text: str) -> str:
    path = os.path.join(job_dir, SCRIPT_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
    return path


def clear_exit_code(job_dir: str) -> None:
    try:
        os.remove(os.path.join(job_dir, EXIT_FILE))
    except FileNotFoundError:
        pass


def read_exit_code(job_dir: str) -> Optional[int]:
    """The exit code the wrapper left, or None when the command has not ended (or the job never ran)."""
    try:
        with open(os.path.join(job_dir, EXIT_FILE)) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def describe_exit(code: Optional[int]) -> Optional[str]:
    """A readable reason for a non-zero exit code (bash reports death by signal N as 128+N)."""
    if code is None or code == 0:
        return None
    if code < 0 or code > 128:
        number = -code if code < 0 else code - 128
        try:
            return f"killed by signal {number} ({signal.Signals(number).name})"
        except ValueError:
            return f"killed by signal {number}"
    return f"exited with code {code}"


def status_from_exit(code: Optional[int], cancelled: bool, reason: Optional[str] = None) -> Optional[Status]:
    """The end status an exit code tells, the one mapping every launcher uses: CANCELLED (with the code, if any)
    when gml cancelled the job, SUCCEEDED on 0, FAILED on another code with ``reason`` (a scheduler's words) or
    else the code's description; None when there is no code and gml did not cancel the job (the caller decides:
    still running, or lost)."""
    if cancelled:
        return Status(JobState.CANCELLED, code)
    if code == 0:
        return Status(JobState.SUCCEEDED, 0)
    if code is not None:
        return Status(JobState.FAILED, code, reason or describe_exit(code))
    return None


def wait_for_exit_files(job_dirs, timeout: float, step: float = 0.05) -> bool:
    """Sleep up to ``timeout`` seconds; True as soon as one of ``job_dirs`` holds an exit code (a job ended)."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        if any(os.path.exists(os.path.join(d, EXIT_FILE)) for d in job_dirs):
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(step, left))
