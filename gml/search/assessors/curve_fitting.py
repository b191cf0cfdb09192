"""CurveFittingAssessor: stop a job whose extrapolated final value falls short of the best final value so far.

At step ``t >= start_step``, and then at every ``gap``-th new point, the job's curve is extrapolated to epoch
``epoch_num`` (``curve_models.predict_final``: a weighted ensemble of parametric learning-curve models). The job
is stopped when the prediction is below ``threshold`` x the best final value of the jobs that completed
successfully so far. It continues while no job has completed, while its curve is too short or too odd to
extrapolate (no prediction), and on any numerical failure. Maximize only: the rule assumes curves that rise
towards a positive asymptote (accuracy-like metrics).

Steps are x positions: a job whose first reported step is 0 is shifted by one (its step ``epoch_num - 1`` is
epoch ``epoch_num``); otherwise steps are epochs counted from 1. Once a job has reached ``epoch_num`` its
observed value there is used instead of a prediction. NaN points are left out of the fit. Predictions are
seeded by (``seed``, job id, number of points), so a decision is the same when replayed.
"""
from __future__ import annotations

import math
from typing import Dict, Optional

from ...registry import ASSESSORS
from ...validation import Keyword, integer, number
from .base import Assessor, Curve, Decision


@ASSESSORS.register_module(aliases=("CurvefittingAssessor", "Curvefitting"))
class CurveFittingAssessor(Assessor):
    def __init__(self, epoch_num: int = 20, start_step: int = 6, threshold: float = 0.95, gap: int = 1,
                 optimize_mode: str = "maximize", seed: int = 0):
        if optimize_mode != "maximize":
            raise ValueError(f"CurveFittingAssessor works with optimize_mode 'maximize' only (it extrapolates "
                             f"rising curves), got {optimize_mode!r}; use MedianStopAssessor or ASHAAssessor "
                             f"to minimize")
        super().__init__(optimize_mode, start_step)
        integer(Keyword("epoch_num"), epoch_num, least=1)
        integer(Keyword("gap"), gap, least=1)
        number(Keyword("threshold"), threshold, above=0)
        self.epoch_num, self.threshold, self.gap, self.seed = epoch_num, float(threshold), gap, int(seed)
        self.best_final: Optional[float] = None
        self._last_value: Dict[int, float] = {}        # running job -> its latest finite value
        self._judged_at: Dict[int, int] = {}           # running job -> number of points at its last judgement
        self.last_prediction: Dict[int, Optional[float]] = {}   # for logs and tests

    @staticmethod
    def _points(history: Curve):
        points = sorted((int(s), float(v)) for s, v in history if v is not None and not math.isnan(v))
        if not points:
            return []
        shift = 1 if min(int(s) for s, _ in history) <= 0 else 0
        return [(s + shift, v) for s, v in points if s + shift >= 1]

    def assess_job(self, job_id: int, history: Curve) -> Decision:
        points = self._points(history)
        if points:
            self._last_value[job_id] = points[-1][1]
        if not history or self.best_final is None or not points:
            return Decision.CONTINUE
        if max(int(s) for s, _ in history) < self.start_step:
            return Decision.CONTINUE
        judged = self._judged_at.get(job_id)
        if judged is not None and len(points) - judged < self.gap:
            return Decision.CONTINUE
        self._judged_at[job_id] = len(points)
        reached = [v for x, v in points if x <= self.epoch_num]
        if points[-1][0] >= self.epoch_num and reached:
            prediction: Optional[float] = reached[-1]
        else:
            prediction = self._predict(job_id, points)
        self.last_prediction[job_id] = prediction
        if prediction is None:
            return Decision.CONTINUE
        return Decision.STOP if prediction < self.threshold * self.best_final else Decision.CONTINUE

    def _predict(self, job_id: int, points) -> Optional[float]:
        from .curve_models import predict_final   # numpy/scipy only when a prediction is needed
        try:
            return predict_final([x for x, _ in points], [v for _, v in points], float(self.epoch_num),
                                 seed=hash((self.seed, job_id, len(points))) & 0x7FFFFFFF)
        except Exception:   # a numerical failure must never end a job: it continues  # noqa: BLE001
            return None

    def job_end(self, job_id: int, success: bool) -> None:
        final = self._last_value.pop(job_id, None)
        self._judged_at.pop(job_id, None)
        if success and final is not None and (self.best_final is None or final > self.best_final):
            self.best_final = final

    def replay(self, job_id: int, history: Curve, success: bool) -> None:
        """Rebuild the best final value without fitting curves for jobs that ended before a resume."""
        points = self._points(history)
        if points:
            self._last_value[job_id] = points[-1][1]
        self.job_end(job_id, success)
