"""Job and task states, the job lifecycle (which status may follow which), and the job record the store hands out.

A job's life: PENDING (recorded) -> RUNNING (submitted) -> one terminal status. The store refuses any status
change not in :data:`TRANSITIONS` with :class:`IllegalTransition`: that is a bug in gml, never a user's mistake.
Ending a job on purpose (assessor, time limit, stop) first records ``end_intent`` and ``end_reason`` on the
active job, then asks the launcher to cancel it; the job reaches ``end_intent`` when the launcher reports it
gone. A controller that dies in between finds the intent in the store and finishes it on resume.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Optional


class JobStatus(str, enum.Enum):
    PENDING = "PENDING"              # recorded, not (known to be) submitted yet
    RUNNING = "RUNNING"              # submitted: the launcher has an external id for it
    SUCCEEDED = "SUCCEEDED"          # exited 0
    ERROR = "ERROR"                  # exited non-zero, killed by a signal, refused, or lost with its controller
    KILLED = "KILLED"                # ended by `search-ctl stop` or by the task's own stop
    TIMEOUT = "TIMEOUT"              # ended by time_limits_per_job
    EARLY_STOPPED = "EARLY_STOPPED"  # ended by the assessor
    FILTERED = "FILTERED"            # dropped by a filter criterion before launch

    @property
    def is_terminal(self) -> bool:
        return self not in (JobStatus.PENDING, JobStatus.RUNNING)

    @property
    def is_active(self) -> bool:
        return self in (JobStatus.PENDING, JobStatus.RUNNING)

    def __str__(self) -> str:
        return self.value


#: status -> the statuses a job in it may move to. A self-transition (PENDING -> PENDING) is a fresh submission of a
#: job recovered as PENDING; ERROR -> PENDING is a rerun (an error is retried on resume); other ends are final.
TRANSITIONS: Dict[JobStatus, FrozenSet[JobStatus]] = {
    JobStatus.PENDING: frozenset({JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FILTERED, JobStatus.ERROR,
                                  JobStatus.KILLED}),
    JobStatus.RUNNING: frozenset({JobStatus.PENDING, JobStatus.SUCCEEDED, JobStatus.ERROR, JobStatus.KILLED,
                                  JobStatus.TIMEOUT, JobStatus.EARLY_STOPPED}),
    JobStatus.ERROR: frozenset({JobStatus.PENDING}),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.KILLED: frozenset(),
    JobStatus.TIMEOUT: frozenset(),
    JobStatus.EARLY_STOPPED: frozenset(),
    JobStatus.FILTERED: frozenset(),
}

#: the statuses a job may be ended with on purpose (recorded as ``end_intent`` before the launcher cancels it)
END_INTENTS: FrozenSet[JobStatus] = frozenset({JobStatus.ERROR, JobStatus.KILLED, JobStatus.TIMEOUT,
                                               JobStatus.EARLY_STOPPED})


class IllegalTransition(RuntimeError):
    """A status change the job lifecycle does not allow (a programming error in gml)."""


def check_transition(job_id: int, old: JobStatus, new: JobStatus) -> None:
    """Raise IllegalTransition unless a job in ``old`` may move to ``new``."""
    if new not in TRANSITIONS[old]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[old])) or "nothing (it is final)"
        raise IllegalTransition(f"job {job_id}: {old.value} -> {new.value} is not a job transition; "
                                f"{old.value} may become {allowed}")


class TaskStatus(str, enum.Enum):
    RUNNING = "RUNNING"          # a controller holds the task
    FINISHED = "FINISHED"        # the searcher was exhausted or a stop criterion ended the search
    STOPPED = "STOPPED"          # `search-ctl stop`
    INTERRUPTED = "INTERRUPTED"  # the controller was interrupted (Ctrl+C, SIGTERM) or died; --resume continues
    FAILED = "FAILED"            # the controller hit an error it could not handle

    def __str__(self) -> str:
        return self.value


@dataclass
class Job:
    """One configuration of a task and what became of it (a row of the store's jobs table)."""

    id: int
    point: Dict[str, Any]
    params: Dict[str, Any]
    status: JobStatus
    attempt: int = 0
    command: Optional[str] = None
    run_path: Optional[str] = None
    log_path: Optional[str] = None
    external_id: Optional[str] = None
    created_at: Optional[float] = None
    submitted_at: Optional[float] = None    # when this attempt was handed to the launcher
    start_time: Optional[float] = None      # when the launcher first reported this attempt running (None: queued)
    end_time: Optional[float] = None
    exit_code: Optional[int] = None
    reward: Optional[float] = None
    error: Optional[str] = None
    stopped_step: Optional[int] = None
    scalar_offset: int = 0
    end_intent: Optional[JobStatus] = None  # the status the controller decided to end this active job with
    end_reason: Optional[str] = None        # why (shown as the job's error once it ended)
    violation: Optional[float] = None       # of searcher.constraints: 0 feasible, > 0 infeasible, None not judged

    @property
    def infeasible(self) -> bool:
        """The job broke a ``searcher.constraints`` constraint: it is never the task's best."""
        return self.violation is not None and self.violation > 0

    @property
    def has_started(self) -> bool:
        """The launcher has reported this attempt running (its time limit counts from ``start_time``)."""
        return self.start_time is not None
