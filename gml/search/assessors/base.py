"""The Assessor contract: decide from a running job's curve whether to end it early.

The controller calls, from one thread:

- ``assess_job(job_id, history)`` whenever new values of the reward attribute arrive for a running job;
  ``history`` is the job's whole curve so far as ``[(step, value), ...]`` in step order (value may be NaN).
  Return ``Decision.STOP`` to end the job (recorded EARLY_STOPPED at its last step) or ``Decision.CONTINUE``.
- ``replay(job_id, history, success)`` once when a job ends, with its complete curve (values that arrived
  after the last ``assess_job`` included), and on resume for every job that ended before, in job order, so the
  assessor rebuilds its knowledge from the store. ``success`` is True only for jobs that ran to completion. By
  default it is ``assess_job`` (answer ignored) followed by ``job_end(job_id, success)``.

A user's class need not subclass Assessor: ``assess_job(job_id, history)`` and ``job_end(job_id)`` (or
``job_end(job_id, success)``) are enough; ``finish_job`` adapts the call.

Assessors compare values in ``optimize_mode``; ``start_step`` is the first step at which they may stop a job.
"""
from __future__ import annotations

import enum
import inspect
from typing import List, Tuple

Curve = List[Tuple[int, float]]


class Decision(enum.Enum):
    CONTINUE = "continue"
    STOP = "stop"


class Assessor:
    def __init__(self, optimize_mode: str = "maximize", start_step: int = 0):
        if optimize_mode not in ("maximize", "minimize"):
            raise ValueError(f"optimize_mode must be 'maximize' or 'minimize', got {optimize_mode!r}")
        if isinstance(start_step, bool) or not isinstance(start_step, int) or start_step < 0:
            raise ValueError(f"start_step must be an integer >= 0, got {start_step!r}")
        self.optimize_mode = optimize_mode
        self.start_step = start_step

    def assess_job(self, job_id: int, history: Curve) -> Decision:
        return Decision.CONTINUE

    def job_end(self, job_id: int, success: bool) -> None:
        pass

    def replay(self, job_id: int, history: Curve, success: bool) -> None:
        if history:
            self.assess_job(job_id, history)
        self.job_end(job_id, success)


def finish_job(assessor, job_id: int, history: Curve, success: bool) -> None:
    """Tell ``assessor`` that a job ended, whatever subset of the contract the class implements."""
    if hasattr(assessor, "replay"):
        assessor.replay(job_id, history, success)
        return
    end = getattr(assessor, "job_end", None)
    if end is None:
        return
    try:
        takes_success = len(inspect.signature(end).parameters) >= 2
    except (TypeError, ValueError):
        takes_success = True
    end(job_id, success) if takes_success else end(job_id)


def judge_new_steps(assessor, job_id: int, history: Curve, judged_up_to):
    """Ask ``assessor`` about every step of ``history`` after ``judged_up_to`` (None: none judged yet), one step at
    a time in step order, each time with the curve up to that step, and stop at the first STOP.

    Several values can arrive together (a fast job, a slow poll, a logger that flushes in batches); judging only the
    newest would let a job run past the step at which the rule stops it. Returns ``(decision, step)``: the STOP
    and the step it was made at, or CONTINUE and the last step judged (``judged_up_to`` when there was none)."""
    points = sorted(history, key=lambda p: p[0])
    step = judged_up_to
    for i, (at, _) in enumerate(points):
        if judged_up_to is not None and at <= judged_up_to:
            continue
        if i + 1 < len(points) and points[i + 1][0] == at:
            continue                       # the same step twice: judge once, with both values in
        step = at
        if assessor.assess_job(job_id, points[:i + 1]) == Decision.STOP:
            return Decision.STOP, at
    return Decision.CONTINUE, step
