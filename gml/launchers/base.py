"""The Launcher contract: run a job's command somewhere, report its state, end it, find it again.

The controller calls a launcher from one thread. Implementations: ``local`` (processes on this machine, GPU
slots), ``slurm`` and ``ray``. A launcher never touches the store: it answers with external ids and states, and
the controller records them. External ids are strings that let a *new* launcher (after a controller restart)
find the job again through ``adopt``.
"""
from __future__ import annotations

import abc
import enum
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional


class JobState(str, enum.Enum):
    QUEUED = "QUEUED"          # accepted, waiting for resources
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"    # exit code 0
    FAILED = "FAILED"          # non-zero exit, killed by a signal, refused by the scheduler
    CANCELLED = "CANCELLED"    # ended through cancel()
    LOST = "LOST"              # no trace of the job and no exit record (e.g. the machine rebooted)

    @property
    def is_done(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.LOST)


@dataclass
class JobSpec:
    """What to run. ``command`` is a rendered shell command (values already quoted as data)."""

    job_id: int
    task: str
    command: str
    cwd: str
    job_dir: str
    log_path: Optional[str]            # None: discard the job's output
    env: Dict[str, str] = field(default_factory=dict)   # added to the launcher's environment
    time_limit: Optional[float] = None  # seconds; launchers with a scheduler pass it on (Slurm --time)


@dataclass
class Status:
    state: JobState
    exit_code: Optional[int] = None
    message: Optional[str] = None      # why it failed, in the launcher's or scheduler's words


class LaunchError(Exception):
    """A submission the launcher or its scheduler refused; the message is shown on the job."""


class Launcher(abc.ABC):
    #: seconds a poll answer may be cached; cluster launchers poll less often than the local one
    poll_interval: float = 0.2

    @abc.abstractmethod
    def submit(self, spec: JobSpec) -> str:
        """Start the job; return its external id. Raises LaunchError if it was refused."""

    @abc.abstractmethod
    def poll(self, external_ids: List[str]) -> Dict[str, Status]:
        """The state of each job, with ONE batched query where the backend allows."""

    @abc.abstractmethod
    def cancel(self, external_id: str) -> None:
        """End the job and everything it started. Returns without waiting for it to be gone; later polls
        report it CANCELLED (or done, if it finished first)."""

    @abc.abstractmethod
    def adopt(self, external_id: str, spec: JobSpec) -> bool:
        """After a controller restart: take charge of the job again if it is still alive and ours."""

    def recover(self, spec: JobSpec) -> Optional[str]:
        """After a controller died between submitting a job and recording its id: the external id of the job
        found from its traces (a pid file, a scheduler job name), or None if it was never submitted."""
        return None

    def capacity(self) -> Optional[int]:
        """How many more jobs could start now (e.g. free GPU slots); None means no limit of the launcher's own."""
        return None

    def wait(self, timeout: float) -> bool:
        """Block until something may have changed (a job ended) or ``timeout`` seconds passed. True means the
        launcher knows a job changed state: the controller polls at once instead of at ``poll_interval``."""
        time.sleep(timeout)
        return False

    def close(self) -> None:
        """Release what the launcher holds (connections, helper processes); running jobs keep running."""
