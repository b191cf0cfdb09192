"""Job and task states, and the job record the store hands out."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Dict, Optional


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
    start_time: Optional[float] = None
    end_time: Optional[float] = None
    exit_code: Optional[int] = None
    reward: Optional[float] = None
    error: Optional[str] = None
    stopped_step: Optional[int] = None
    scalar_offset: int = 0
    extra: Dict[str, Any] = field(default_factory=dict)
