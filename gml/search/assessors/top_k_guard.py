"""TopKGuardAssessor: stop a job only when it is behind every one of the best ``top_k`` finished jobs.

The rule aims at one promise: the jobs that would have ended among the ``top_k`` best run to the end, and the
rest are stopped as early as the evidence allows. At step ``t >= start_step`` a running job is compared with the
``top_k`` jobs that completed successfully with the best final values (the "guard"): each guard job's best value
up to ``t`` is taken, and the job is stopped when its own best value so far is worse than the weakest of those by
more than ``margin`` times the spread of those values at ``t`` (0: any amount). A future top-``top_k`` job has to
be ahead of the weakest of the current top ``top_k`` at the end; being behind all of them at ``t`` is evidence
against it that grows with every completed job (the guard only gets better).

Until ``min_completed`` jobs have completed nothing is stopped; while fewer than ``top_k`` have, the guard is all
completed jobs. Like MedianStop, only successful completions become references; NaN values are left out of the
best values, and a running job whose values are all NaN is stopped once there is a guard. Steps are the job's own
step numbers (a guard job counts at ``t`` with its best value at steps ``<= t``; a guard job that never reported a
step ``<= t`` is left out at ``t``). Pure Python; rebuilt on resume by ``replay``.
"""
from __future__ import annotations

import bisect
import math
from typing import Dict, List, Optional

from ...registry import ASSESSORS
from ...validation import Keyword, integer, number
from .base import BarAssessor, Curve


class _Completed:
    """A completed job's curve as steps ascending and the best value up to each of them."""

    def __init__(self, history: Curve, maximize: bool):
        points = sorted({int(s): float(v) for s, v in history if v is not None and not math.isnan(v)}.items())
        self.steps: List[int] = [s for s, _ in points]
        self.best_so_far: List[float] = []
        best = None
        for _, value in points:
            best = value if best is None else (max(best, value) if maximize else min(best, value))
            self.best_so_far.append(best)
        self.final: Optional[float] = points[-1][1] if points else None

    def best_up_to(self, step: int) -> Optional[float]:
        i = bisect.bisect_right(self.steps, step) - 1
        return self.best_so_far[i] if i >= 0 else None


@ASSESSORS.register_module()
class TopKGuardAssessor(BarAssessor):
    """See the module docstring. ``optimize_mode`` defaults to the searcher's."""

    def __init__(self, optimize_mode: str = "maximize", top_k: int = 10, start_step: int = 2,
                 margin: float = 0.0, min_completed: int = 3):
        super().__init__(optimize_mode, start_step)
        integer(Keyword("top_k"), top_k, least=1)
        integer(Keyword("min_completed"), min_completed, least=1)
        number(Keyword("margin"), margin, least=0.0, most=1.0)
        self.top_k, self.margin, self.min_completed = top_k, float(margin), min_completed
        self._maximize = optimize_mode == "maximize"
        self._completed: Dict[int, _Completed] = {}
        self._guard: List[_Completed] = []

    def _rebuild_guard(self) -> None:
        finished = [c for c in self._completed.values() if c.final is not None]
        finished.sort(key=lambda c: c.final, reverse=self._maximize)
        self._guard = finished[:self.top_k]

    def bar_at(self, step: int) -> Optional[float]:
        """The value a running job must reach by ``step`` to go on, or None while there is no guard."""
        if len(self._completed) < self.min_completed:
            return None
        values = [v for v in (c.best_up_to(step) for c in self._guard) if v is not None]
        if not values:
            return None
        slack = self.margin * (max(values) - min(values))
        return min(values) - slack if self._maximize else max(values) + slack

    def job_end(self, job_id: int, success: bool) -> None:
        """The end of a job, with the curve last seen by ``assess_job`` (``replay`` passes the complete one)."""
        self.replay(job_id, self._running.get(job_id, []), success)

    def replay(self, job_id: int, history: Curve, success: bool) -> None:
        self._running.pop(job_id, None)
        if success and history:
            self._completed[job_id] = _Completed(history, self._maximize)
            self._rebuild_guard()
