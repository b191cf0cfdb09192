"""ASHAAssessor: asynchronous successive halving as an early-stopping rule.

Rungs sit at steps ``min_step * reduction_factor ** (min_early_stopping_rate + k)`` for k = 0, 1, 2, ...
When a job first reaches a rung (its latest step is at or past the rung's step), its value there (the value at
the largest step it reported up to the rung, or its first value if it reported none that early) is recorded at that rung, and the job goes on only if that value
ranks in the top ``ceil(n / reduction_factor)`` of the ``n`` values recorded at the rung so far, from every job
that reached it (running, completed or stopped); otherwise it is stopped. Each rung judges a job once. Ties with
the cut-off value continue; a NaN value at a rung stops the job.

This is the asynchronous variant (Li et al., "A System for Massively Parallel Hyperparameter Tuning", 2020) cast
as an assessor: jobs that would not be promoted are stopped instead of paused, so the first jobs at a rung are
judged against few others. Recorded values rebuild from the store on resume (``replay``).

When it loses the best job, and the defaults: a job is judged once per rung against the jobs that reached the
rung before it, so the best job is stopped when (a) it reaches a rung among the first few jobs there, next to a
lucky early value of another job (with ``reduction_factor`` 3, the second job at a rung goes on only if it beats
the first), or (b) it starts slowly (a low learning rate, a warm-up schedule) and ranks outside the top
1/``reduction_factor`` at an early rung, most often the first one (``min_step`` 1: one epoch says little). On the
curve banks of benchmarks/early_stopping.py, ``min_step=1, reduction_factor=3`` stopped the best job in some job
orders and ran only 3 of the 10 best jobs to the end. The defaults (``min_step=2, reduction_factor=2,
min_jobs_per_rung=10``: no job is stopped at a rung before 10 values were recorded there) kept the best job in
every order measured; they still stop some of the 10 best jobs (see docs/early-stopping.md for the table).
"""
from __future__ import annotations

import math
from typing import Dict, List

from ...registry import ASSESSORS
from ...validation import Keyword, integer
from .base import Assessor, Curve, Decision


@ASSESSORS.register_module(aliases=("SuccessiveHalvingAssessor",))
class ASHAAssessor(Assessor):
    def __init__(self, optimize_mode: str = "maximize", min_step: int = 2, reduction_factor: int = 2,
                 min_early_stopping_rate: int = 0, min_jobs_per_rung: int = 10):
        integer(Keyword("min_step"), min_step, least=1)
        integer(Keyword("reduction_factor"), reduction_factor, least=2)
        integer(Keyword("min_early_stopping_rate"), min_early_stopping_rate, least=0)
        integer(Keyword("min_jobs_per_rung"), min_jobs_per_rung, least=0)
        super().__init__(optimize_mode, min_step)
        self.min_step, self.reduction_factor = min_step, reduction_factor
        self.min_early_stopping_rate = min_early_stopping_rate
        self.min_jobs_per_rung = min_jobs_per_rung
        self.rungs: Dict[int, Dict[int, float]] = {}      # rung index -> {job id: value at the rung}

    def rung_step(self, rung: int) -> int:
        return self.min_step * self.reduction_factor ** (self.min_early_stopping_rate + rung)

    def _promotable(self, rung: int, value: float) -> bool:
        if math.isnan(value):
            return False
        if len(self.rungs[rung]) < self.min_jobs_per_rung:
            return True             # too few values at this rung to rank against: everyone goes on
        values: List[float] = [v for v in self.rungs[rung].values() if not math.isnan(v)]
        values.sort(reverse=self.optimize_mode == "maximize")
        keep = max(1, math.ceil(len(values) / self.reduction_factor))
        cutoff = values[min(keep, len(values)) - 1]
        return value >= cutoff if self.optimize_mode == "maximize" else value <= cutoff

    def assess_job(self, job_id: int, history: Curve) -> Decision:
        if not history:
            return Decision.CONTINUE
        points = sorted((int(s), float("nan") if v is None else float(v)) for s, v in history)
        latest = points[-1][0]
        rung = 0
        while self.rung_step(rung) <= latest:
            at = self.rung_step(rung)
            recorded = self.rungs.setdefault(rung, {})
            if job_id not in recorded:
                before = [v for s, v in points if s <= at]
                value = before[-1] if before else points[0][1]   # no point up to the rung: its first one
                recorded[job_id] = value
                if not self._promotable(rung, value):
                    return Decision.STOP
            rung += 1
        return Decision.CONTINUE
