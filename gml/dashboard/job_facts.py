"""A job's lifecycle facts as the dashboard shows them: why it ended, when it was submitted, how long it ran.

The store keeps them as typed fields of :class:`~gml.search.task.jobs.Job` (``end_reason`` for why the controller
ended a job, ``submitted_at``; a failed job's message in ``error``); the rest of ``gml.dashboard`` asks
:func:`job_facts` for the derived view.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from ..search.task.jobs import Job, JobStatus


@dataclass(frozen=True)
class JobFacts:
    stop_reason: Optional[str]    # why the job ended other than by succeeding (first line), None otherwise
    submitted_at: Optional[float]  # when this attempt was handed to the launcher (epoch seconds)
    duration: Optional[float]     # seconds from start_time to end_time, or to now while it runs


def job_facts(job: Job, now: Optional[float] = None) -> JobFacts:
    why = job.end_reason or job.error
    reason = why.strip().splitlines()[0] if why and why.strip() else None
    if job.status == JobStatus.SUCCEEDED and job.reward is not None:
        reason = None
    end = job.end_time if job.end_time is not None else (
        (now if now is not None else time.time()) if job.status == JobStatus.RUNNING else None)
    duration = None if job.start_time is None or end is None else max(0.0, end - job.start_time)
    return JobFacts(stop_reason=reason, submitted_at=job.submitted_at if job.submitted_at is not None else job.start_time,
                    duration=duration)
