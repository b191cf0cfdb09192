"""ClusterLauncher: what the Slurm and Ray launchers share: jobs that run the wrapper script (wrapper.py) on a
scheduler and leave ``<job_dir>/exit_code``, watched through that file and ONE batched scheduler query.

``poll`` reads each open job's exit code file every call (a cheap stat) and asks the scheduler, through the
subclass's ``_refresh``, at most every ``_refresh_interval`` seconds; a job's final status never changes once
known. ``cancel`` marks the job, asks the subclass to ``_stop`` it and makes the next poll ask the scheduler
again. ``wait`` sleeps until an open job's exit code file appears.
"""
from __future__ import annotations

import abc
import math
import time
from collections import deque
from typing import Deque, Dict, List, Optional

from .base import JobState, Launcher, Status
from .wrapper import read_exit_code, status_from_exit, wait_for_exit_files


class JobEntry:
    """What a cluster launcher knows of one job: ``job_dir`` ('' when unknown: a job polled or cancelled that
    this launcher neither submitted nor adopted), ``cancelled`` (gml asked to end it), ``last`` (the open state
    the scheduler last reported) and ``final`` (its end status once known; None while it is open)."""

    def __init__(self, job_dir: str):
        self.job_dir = job_dir
        self.cancelled = False
        self.last = Status(JobState.QUEUED)
        self.final: Optional[Status] = None

    def exit_status(self, code: Optional[int], reason: Optional[str] = None) -> Optional[Status]:
        """The end status that the exit code ``code`` tells for this job (``wrapper.status_from_exit``)."""
        return status_from_exit(code, self.cancelled, reason)


class ClusterLauncher(Launcher):
    """Base of the launchers whose jobs run under a scheduler and leave exit code files. Subclasses record
    each job they submit or adopt as ``self._jobs[external_id] = JobEntry(job_dir)`` and implement ``submit``,
    ``adopt``, ``_refresh_interval``, ``_refresh`` and ``_stop``. ``stats`` holds the measured seconds of each
    ``poll`` and of each call named by the subclass (for benchmarks)."""

    poll_interval = 0.2   # exit code files are checked this often; the scheduler at most every _refresh_interval

    def __init__(self, *stat_names: str):
        self._jobs: Dict[str, JobEntry] = {}
        self._last_refresh = -math.inf
        #: measured cost of the launcher's own work, for benchmarks: seconds per poll() and per scheduler call
        self.stats: Dict[str, Deque[float]] = {k: deque(maxlen=100_000) for k in ("poll",) + stat_names}

    @property
    @abc.abstractmethod
    def _refresh_interval(self) -> float:
        """Seconds between two scheduler queries (``_refresh`` calls)."""

    @abc.abstractmethod
    def _refresh(self, ids: List[str]) -> None:
        """Ask the scheduler ONCE about the open jobs ``ids``: set ``entry.last`` of those still open and
        ``entry.final`` of those that ended; leave both as they are when the scheduler does not answer."""

    @abc.abstractmethod
    def _stop(self, external_id: str) -> None:
        """Ask the scheduler to end the job; return without waiting, and quietly when it does not answer."""

    def poll(self, external_ids: List[str]) -> Dict[str, Status]:
        start = time.perf_counter()
        result: Dict[str, Status] = {}
        open_ids = []
        for eid in external_ids:
            entry = self._jobs.setdefault(eid, JobEntry(""))
            if entry.final is None and entry.job_dir:
                code = read_exit_code(entry.job_dir)
                if code is not None:
                    entry.final = entry.exit_status(code)
            if entry.final is not None:
                result[eid] = entry.final
            else:
                open_ids.append(eid)
        now = time.monotonic()
        if open_ids and now - self._last_refresh >= self._refresh_interval:
            self._last_refresh = now
            self._refresh(open_ids)
        for eid in open_ids:
            entry = self._jobs[eid]
            result[eid] = entry.final or entry.last
        self.stats["poll"].append(time.perf_counter() - start)
        return result

    def wait(self, timeout: float) -> bool:
        return wait_for_exit_files([e.job_dir for e in self._jobs.values() if e.final is None and e.job_dir
                                    and not e.cancelled],
                                   timeout)

    def cancel(self, external_id: str) -> None:
        entry = self._jobs.setdefault(external_id, JobEntry(""))
        if entry.final is not None:
            return
        entry.cancelled = True
        self._stop(external_id)
        self._last_refresh = -math.inf   # look again at the next poll
