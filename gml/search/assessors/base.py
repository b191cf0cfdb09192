"""The Assessor contract: decide from a running job's curve whether to end it early.

An assessor subclasses :class:`Assessor`. The controller calls, from one thread:

- ``assess_job(job_id, history) -> Decision`` (required) whenever new values of the reward attribute arrive
  for a running job; ``history`` is the job's whole curve so far as ``[(step, value), ...]`` in step order
  (value may be NaN). ``Decision.STOP`` ends the job (recorded EARLY_STOPPED at its last step).
- ``replay(job_id, history, success)`` once when a job ends, with its complete curve (values that arrived after
  the last ``assess_job`` included), and on resume for every job that ended before, in job order, so the
  assessor rebuilds its knowledge from the store. ``success`` is True only for jobs that ran to completion. By
  default it calls ``assess_job`` (answer ignored) and then ``job_end``; an assessor whose ``assess_job``
  records more than it decides overrides ``replay`` to record a curve without judging it.
- ``job_end(job_id, success)``: the job ended (by default nothing to do).

Assessors compare values in ``optimize_mode``; ``start_step`` is the first step at which they may stop a job.
"""
from __future__ import annotations

import abc
import enum
import math
from typing import Dict, List, Optional, Tuple

from ...validation import Keyword, integer, one_of

Curve = List[Tuple[int, float]]


class Decision(enum.Enum):
    CONTINUE = "continue"
    STOP = "stop"


class Assessor(abc.ABC):
    def __init__(self, optimize_mode: str = "maximize", start_step: int = 0):
        one_of(Keyword("optimize_mode"), optimize_mode, ("maximize", "minimize"))
        integer(Keyword("start_step"), start_step, least=0)
        self.optimize_mode = optimize_mode
        self.start_step = start_step

    @abc.abstractmethod
    def assess_job(self, job_id: int, history: Curve) -> Decision:
        """STOP to end the running job ``job_id`` now, CONTINUE to let it run; ``history`` is its curve so far."""

    def job_end(self, job_id: int, success: bool) -> None:
        """The job ended; ``success``: it ran to completion (not stopped, failed or timed out)."""

    def replay(self, job_id: int, history: Curve, success: bool) -> None:
        """A job ended with the complete curve ``history`` (also called on resume for every ended job)."""
        if history:
            self.assess_job(job_id, history)
        self.job_end(job_id, success)


class BarAssessor(Assessor):
    """The frame of rules that stop a running job whose best value so far is worse than a bar computed at its latest
    step from the jobs that completed (MedianStop: the median running average; TopKGuard: the weakest of the best
    completed jobs). No bar yet, or a step before ``start_step``: the job continues; a job with no finite value
    yet is stopped once there is a bar. ``_running`` keeps each running job's curve as last assessed."""

    def __init__(self, optimize_mode: str = "maximize", start_step: int = 0):
        super().__init__(optimize_mode, start_step)
        self._running: Dict[int, Curve] = {}

    @abc.abstractmethod
    def bar_at(self, step: int) -> Optional[float]:
        """The value a job must not fall behind at ``step``, or None while there is none."""

    def assess_job(self, job_id: int, history: Curve) -> Decision:
        self._running[job_id] = list(history)
        if not history:
            return Decision.CONTINUE
        step = max(int(s) for s, _ in history)
        if step < self.start_step:
            return Decision.CONTINUE
        bar = self.bar_at(step)
        if bar is None:
            return Decision.CONTINUE
        values = [float(v) for _, v in history if v is not None and not math.isnan(v)]
        if not values:
            return Decision.STOP
        if self.optimize_mode == "maximize":
            return Decision.STOP if max(values) < bar else Decision.CONTINUE
        return Decision.STOP if min(values) > bar else Decision.CONTINUE


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
