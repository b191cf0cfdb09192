"""Slurm's command-line tools, called with time limits and parsed: sbatch, squeue, sacct, scancel.

Every call is bounded by a timeout so the controller never hangs on a busy or unreachable slurmctld; a call that
fails or times out raises :class:`SlurmUnavailable`, and the launcher keeps the states it knew.
"""
from __future__ import annotations

import enum
import subprocess
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence

SQUEUE_FORMAT = "%i|%T|%r|%j|%Z"


class SlurmUnavailable(RuntimeError):
    """A Slurm command could not be run or did not answer in time."""


class Phase(str, enum.Enum):
    """How gml reads a Slurm job state."""
    QUEUED = "QUEUED"      # waiting (also after a requeue)
    RUNNING = "RUNNING"
    DONE = "DONE"          # over; the state name says how


_QUEUED = {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "RESIZING"}
_RUNNING = {"RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT"}
#: why a job ended, in words, for the states that are not a plain exit of the batch script
REASONS = {
    "TIMEOUT": "Slurm ended the job at its time limit (--time)",
    "CANCELLED": "cancelled by scancel (not by gml)",
    "NODE_FAIL": "the node running the job failed",
    "PREEMPTED": "preempted by Slurm and not requeued",
    "OUT_OF_MEMORY": "Slurm ended the job: out of memory (--mem)",
    "BOOT_FAIL": "the node failed to boot",
    "DEADLINE": "Slurm ended the job at its deadline",
    "REVOKED": "revoked by Slurm (federation)",
}


def phase(state: str) -> Phase:
    state = state.split()[0].rstrip("+") if state else ""
    if state in _QUEUED:
        return Phase.QUEUED
    if state in _RUNNING:
        return Phase.RUNNING
    return Phase.DONE


@dataclass
class QueueEntry:
    job_id: str
    state: str          # Slurm's state name, e.g. RUNNING, COMPLETED, CANCELLED
    reason: str
    name: str
    workdir: str


@dataclass
class AcctEntry:
    job_id: str
    state: str
    exit_code: Optional[int]   # bash convention: 128+N for death by signal N


def run(argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(list(argv), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)
    except FileNotFoundError:
        raise SlurmUnavailable(f"{argv[0]} not found: is this a Slurm login node (with Slurm's tools on PATH)?") \
            from None
    except subprocess.TimeoutExpired:
        raise SlurmUnavailable(f"{argv[0]} did not answer within {timeout:.0f}s") from None


def squeue(job_ids: Iterable[str] = (), name: Optional[str] = None, timeout: float = 15.0) -> Dict[str, QueueEntry]:
    """ONE squeue call: the jobs among ``job_ids`` (or named ``name``) that slurmctld still knows, any state."""
    argv = ["squeue", "--noheader", "--states=all", f"--format={SQUEUE_FORMAT}"]
    ids = sorted(set(job_ids), key=lambda i: (len(i), i))
    if ids:
        argv.append("--jobs=" + ",".join(ids))
    if name is not None:
        argv.append(f"--name={name}")
    out = run(argv, timeout)
    if out.returncode != 0:
        # all of the asked ids purged already: squeue says so and fails; that is an empty answer
        if "Invalid job id" in out.stderr:
            return {}
        raise SlurmUnavailable(f"squeue failed: {out.stderr.strip() or out.returncode}")
    entries = {}
    for line in out.stdout.splitlines():
        parts = line.split("|", 4)
        if len(parts) == 5:
            entry = QueueEntry(*(p.strip() for p in parts))
            entries[entry.job_id] = entry
    return entries


def parse_exit(text: str) -> Optional[int]:
    """sacct's ``code:signal`` as one number, bash style."""
    try:
        code, sig = (int(x) for x in text.split(":", 1))
    except ValueError:
        return None
    return 128 + sig if sig else code


def sacct(job_ids: Iterable[str], timeout: float = 15.0) -> Optional[Dict[str, AcctEntry]]:
    """ONE sacct call for ``job_ids``; None when the cluster keeps no accounting."""
    ids = sorted(set(job_ids), key=lambda i: (len(i), i))
    if not ids:
        return {}
    out = run(["sacct", "--noheader", "--parsable2", "--allocations", "--format=JobID,State,ExitCode",
               "--jobs=" + ",".join(ids)], timeout)
    if out.returncode != 0:
        if "accounting storage is disabled" in out.stderr.lower():
            return None
        raise SlurmUnavailable(f"sacct failed: {out.stderr.strip() or out.returncode}")
    entries = {}
    for line in out.stdout.splitlines():
        parts = line.split("|")
        if len(parts) >= 3:
            entries[parts[0]] = AcctEntry(parts[0], parts[1].split()[0] if parts[1] else "", parse_exit(parts[2]))
    return entries


def sbatch(options: List[str], script: str, timeout: float = 60.0) -> str:
    """Submit ``script`` with ``options``; the new job's id. Raises RefusedError with Slurm's message."""
    out = run(["sbatch", "--parsable", *options, script], timeout)
    if out.returncode != 0:
        raise RefusedError(clean_error(out.stderr) or f"sbatch exited with code {out.returncode}")
    job_id = out.stdout.strip().splitlines()[-1].split(";")[0] if out.stdout.strip() else ""
    if not job_id.isdigit():
        raise RefusedError(f"sbatch gave no job id: {out.stdout.strip()!r} {out.stderr.strip()!r}")
    return job_id


def scancel(job_ids: Sequence[str], timeout: float = 15.0) -> None:
    if job_ids:
        run(["scancel", *job_ids], timeout)   # a job already over is not an error worth reporting


def clean_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return " ".join(lines)


class RefusedError(RuntimeError):
    """sbatch refused the submission (bad partition, impossible resources, ...); the message is Slurm's."""
