"""MedianStopAssessor: the median stopping rule.

At step ``t >= start_step`` a running job is stopped when its best value so far is strictly worse than the
median of the running averages, up to step ``t``, of the jobs that completed successfully and reached step
``t``. With an even number of such jobs the more lenient of the two middle values is the median (the lower one
when maximizing, the higher one when minimizing), so a job on the median itself always continues.

Details that make the rule well defined on real curves:

- Steps are the job's own step numbers (epochs or iterations, as reported); a completed job's running average
  "up to t" is the mean of its values at steps ``<= t``. Missing steps are simply absent, and a completed job
  counts at step ``t`` only when it reported some step ``>= t``.
- NaN values are left out of the averages and of a job's best value; a running job whose values so far are all
  NaN counts as worse than any median (a diverged job is stopped once there is a median to compare with).
- Only jobs that ended with ``success=True`` become references: early-stopped, killed or failed jobs do not.
- Pure Python, no numpy; the state is rebuilt on resume by ``replay``.
"""
from __future__ import annotations

import bisect
import math
from typing import Dict, List, Tuple

from ...registry import ASSESSORS
from .base import BarAssessor, Curve


def _finite(history: Curve) -> List[Tuple[int, float]]:
    return [(int(s), float(v)) for s, v in history if v is not None and not math.isnan(v)]


@ASSESSORS.register_module(aliases=("MedianstopAssessor", "Medianstop"))
class MedianStopAssessor(BarAssessor):
    """Median stopping rule (see the module docstring). ``optimize_mode`` defaults to the searcher's."""

    def __init__(self, optimize_mode: str = "maximize", start_step: int = 0):
        super().__init__(optimize_mode, start_step)
        # completed job -> (its steps ascending, running average at each of those steps)
        self._completed: Dict[int, Tuple[List[int], List[float]]] = {}

    # -- the references ----------------------------------------------------------------------------------
    def median_at(self, step: int):
        """The median running average at ``step`` over completed jobs that reached it, or None if none did."""
        averages = []
        for steps, running_avg in self._completed.values():
            if not steps or steps[-1] < step:
                continue
            i = bisect.bisect_right(steps, step) - 1
            if i >= 0:
                averages.append(running_avg[i])
        if not averages:
            return None
        averages.sort()
        n = len(averages)
        return averages[(n - 1) // 2] if self.optimize_mode == "maximize" else averages[n // 2]

    # -- the contract ------------------------------------------------------------------------------------
    def bar_at(self, step: int):
        return self.median_at(step)

    def job_end(self, job_id: int, success: bool) -> None:
        history = self._running.pop(job_id, None)
        if not success or not history:
            return
        points = sorted(dict(_finite(history)).items())    # one value per step (the store keeps one anyway)
        steps, averages, total = [], [], 0.0
        for step, value in points:
            total += value
            steps.append(step)
            averages.append(total / len(steps))
        self._completed[job_id] = (steps, averages)

    def replay(self, job_id: int, history: Curve, success: bool) -> None:
        self._running[job_id] = list(history)
        self.job_end(job_id, success)
