"""GuardBandAssessor: stop a job only when it is behind the band of the best completed jobs and behind the median.

A refinement of :class:`~gml.search.assessors.top_k_guard.TopKGuardAssessor` (same promise: the jobs that would
end among the ``top_k`` best run to the end, the rest stop as early as the evidence allows) with four changes, each
measured on real learning curves (docs/early-stopping.md):

1. **Guard early in a search.** The guard is the ``top_k`` completed jobs with the best final values, but while
   fewer than ``top_k / guard_fraction`` jobs have completed it is only the best ``ceil(guard_fraction x
   completed)`` of them (at least ``min_completed``): the first jobs of a search include poor ones, and a guard of
   every completed job would put the bar at the poorest of them until ``top_k`` jobs completed.
2. **Lag.** A running job at step ``t`` is compared with where each guard job was at step ``t - lag`` (the guard
   job's best value so far, linearly interpolated between its steps; before its first step, the worst first value
   of any completed job). A job that starts a fraction of a step behind the guard is not stopped for it.
3. **Tolerance from the guard's own late gains.** The bar is lowered by ``tolerance`` x the median, over the guard
   jobs, of how much each still improved after step ``t`` (its best value over the whole curve minus its best
   value up to ``t``). Early in training, where good jobs still gain a lot (a slow warm-up, a step schedule before
   its decay), the bar is lenient; near the end, where they gain nothing, it is the guard itself.
4. **And the median.** With ``with_median`` (the default) a job must also be behind the median stopping rule's bar
   (:class:`~gml.search.assessors.median.MedianStopAssessor`: the median of the completed jobs' running averages
   up to ``t``). The two rules err on different jobs: the median rule stops slow starters at the first steps,
   where the band's lag and tolerance protect them; the band stops late bloomers at middle steps by a hair, where
   the running averages (which still carry the early, low values) are far below them.

At step ``t >= start_step`` the band is ``min over guard of value_at(t - lag) - tolerance x median gain(t)``
(maximize; mirrored for minimize), the bar is the more lenient of the band and the median (the band alone without
``with_median``), and a running job whose best value so far is worse than the bar is stopped. Nothing is stopped
before ``min_completed`` jobs completed, nor while no completed job reached step ``t`` (no median). Only successful completions become guard jobs; NaN
values are left out, a running job whose values are all NaN is stopped once there is a bar (BarAssessor). Steps are
the jobs' own step numbers. Pure Python; rebuilt on resume by ``replay``.
"""
from __future__ import annotations

import bisect
import math
import statistics
from typing import Dict, List, Optional

from ...registry import ASSESSORS
from ...validation import Keyword, boolean, integer, number
from .base import BarAssessor, Curve
from .median import MedianStopAssessor
from .top_k_guard import _Completed


class _GuardJob(_Completed):
    """A completed job's best-so-far curve, read at any real step, and its best value over the whole curve."""

    def __init__(self, history: Curve, maximize: bool):
        super().__init__(history, maximize)
        self.first: Optional[float] = self.best_so_far[0] if self.best_so_far else None    # its first finite value
        self.overall_best: Optional[float] = self.best_so_far[-1] if self.best_so_far else None

    def gain_after(self, step: int, before_first: float) -> float:
        """How much better its best value got after ``step`` (0 when it had reached its best by then)."""
        so_far = self.best_up_to(step)
        return abs(self.overall_best - (before_first if so_far is None else so_far))

    def value_at(self, step: float, before_first: float) -> float:
        """Best value up to ``step`` (a real number), interpolated linearly between reported steps; one step
        before the first reported step and earlier it is ``before_first``."""
        steps, best = self.steps, self.best_so_far
        if step >= steps[-1]:
            return best[-1]
        i = bisect.bisect_right(steps, step) - 1
        if i < 0:
            start = steps[0] - 1
            if step <= start:
                return before_first
            return before_first + (step - start) * (best[0] - before_first)
        if step == steps[i]:
            return best[i]
        share = (step - steps[i]) / (steps[i + 1] - steps[i])
        return best[i] + share * (best[i + 1] - best[i])


@ASSESSORS.register_module()
class GuardBandAssessor(BarAssessor):
    """See the module docstring. ``optimize_mode`` defaults to the searcher's."""

    def __init__(self, optimize_mode: str = "maximize", top_k: int = 10, start_step: int = 1,
                 guard_fraction: float = 0.34, lag: float = 0.5, tolerance: float = 0.25, min_completed: int = 3,
                 with_median: bool = True):
        super().__init__(optimize_mode, start_step)
        boolean(Keyword("with_median"), with_median)
        integer(Keyword("top_k"), top_k, least=1)
        integer(Keyword("min_completed"), min_completed, least=1)
        number(Keyword("guard_fraction"), guard_fraction, least=0.01, most=1.0)
        number(Keyword("lag"), lag, least=0.0, most=100.0)
        number(Keyword("tolerance"), tolerance, least=0.0, most=100.0)
        self.top_k, self.min_completed = top_k, min_completed
        self.guard_fraction, self.lag, self.tolerance = float(guard_fraction), float(lag), float(tolerance)
        self._maximize = optimize_mode == "maximize"
        self._completed: Dict[int, _GuardJob] = {}
        self._guard: List[_GuardJob] = []
        self._worst_first: Optional[float] = None
        self._median = MedianStopAssessor(optimize_mode) if with_median else None

    def guard_size(self, completed: int) -> int:
        """How many of the best completed jobs form the guard when ``completed`` jobs have completed."""
        return min(self.top_k, max(self.min_completed, math.ceil(self.guard_fraction * completed)))

    def _rebuild_guard(self) -> None:
        finished = [c for c in self._completed.values() if c.final is not None]
        finished.sort(key=lambda c: c.final, reverse=self._maximize)
        self._guard = finished[:self.guard_size(len(finished))]
        firsts = [c.first for c in finished]
        self._worst_first = (min(firsts) if self._maximize else max(firsts)) if firsts else None

    def bar_at(self, step: int) -> Optional[float]:
        """The value a running job must reach by ``step`` to go on, or None while there is no guard."""
        if len(self._completed) < self.min_completed or not self._guard:
            return None
        at = step - self.lag
        band = [c.value_at(at, self._worst_first) for c in self._guard]
        slack = self.tolerance * statistics.median(c.gain_after(step, self._worst_first) for c in self._guard)
        bar = min(band) - slack if self._maximize else max(band) + slack
        if self._median is None:
            return bar
        median = self._median.median_at(step)
        if median is None:
            return None
        return min(bar, median) if self._maximize else max(bar, median)

    def job_end(self, job_id: int, success: bool) -> None:
        """The end of a job, with the curve last seen by ``assess_job`` (``replay`` passes the complete one)."""
        self.replay(job_id, self._running.get(job_id, []), success)

    def replay(self, job_id: int, history: Curve, success: bool) -> None:
        self._running.pop(job_id, None)
        if self._median is not None:
            self._median.replay(job_id, history, success)
        if success and history:
            job = _GuardJob(history, self._maximize)
            if job.final is not None:
                self._completed[job_id] = job
                self._rebuild_guard()
