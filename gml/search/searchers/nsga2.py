"""NSGA2Searcher: Optuna's NSGA-II sampler through ask/tell, for one or several objectives (the ``searchers`` extra).

``reward_attribute: [acc, flops]`` with ``optimize_mode: [maximize, minimize]``: the controller builds this searcher
with ``directions`` (one mode per objective) and tells it every objective's value of each finished job
(``observe(point, [acc, flops])``; None when the job failed, was killed, missed a value, or broke constraints of a
searcher without constraint support, which this one is not). With one objective it is a plain genetic algorithm.

- Dimensions map onto Optuna distributions through ``OptunaEncoding``, as in TPESearcher.
- Every issued point is a RUNNING trial until observed (points issued elsewhere, e.g. warm starts or a resume's
  replay, are added as trials); a failed job is a FAIL trial, which NSGA-II leaves out of its populations.
- Constraints (``searcher.constraints``): violations go to the sampler's ``constraints_func`` (constrained
  domination: feasible trials dominate infeasible ones).
- An already issued proposal is told FAIL and NSGA-II is asked again, up to ``max_retries`` times; then a random
  unissued point is used.

Keywords: ``seed``, ``population_size`` (50), ``mutation_prob`` (None: 1 / number of parameters),
``crossover_prob`` (0.9), ``swapping_prob`` (0.5), ``max_retries`` (10).
"""
from __future__ import annotations

import warnings
from typing import Dict, List, Optional, Sequence

from ...registry import SEARCHERS
from ...validation import Keyword, config_error, integer, number
from ..space.dimensions import canonical_key
from ..space.encoding import OptunaEncoding, import_extra
from .base import Point, Searcher
from .observations import random_unissued


@SEARCHERS.register_module()
class NSGA2Searcher(Searcher):
    """NSGA-II over any gml space, one or several objectives (see the module docstring)."""

    multi_objective = True
    uses_constraints = True

    def __init__(self, space, optimize_mode="maximize", seed=None, directions: Optional[List[str]] = None,
                 population_size: int = 50, mutation_prob: Optional[float] = None, crossover_prob: float = 0.9,
                 swapping_prob: float = 0.5, max_retries: int = 10):
        super().__init__(space, optimize_mode, seed)
        optuna = import_extra("optuna", "NSGA2Searcher", "optuna")
        integer(Keyword("population_size"), population_size, least=2)
        number(Keyword("mutation_prob"), mutation_prob, least=0, most=1, optional=True)
        number(Keyword("crossover_prob"), crossover_prob, least=0, most=1)
        number(Keyword("swapping_prob"), swapping_prob, least=0, most=1)
        self.max_retries = integer(Keyword("max_retries"), max_retries, least=0)
        self.directions = list(directions) if directions else [optimize_mode]
        self._violations: Dict[str, Sequence[float]] = {}         # canonical point key -> its violations
        self._trial_violations: Dict[int, Sequence[float]] = {}   # trial number -> violations, read by Optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")    # experimental / deprecated argument warnings
            try:
                sampler = optuna.samplers.NSGAIISampler(
                    seed=seed, population_size=population_size, mutation_prob=mutation_prob,
                    crossover_prob=crossover_prob, swapping_prob=swapping_prob,
                    constraints_func=lambda trial: tuple(self._trial_violations.get(trial.number, ())))
            except (TypeError, ValueError) as err:
                raise config_error(Keyword(""), f"NSGA2Searcher: optuna's NSGAIISampler refused the keywords: "
                                                f"{err}") from None
            self.study = optuna.create_study(directions=self.directions, sampler=sampler)
        self.encoding = OptunaEncoding(space)
        self.size = space.size()
        self._trial_of: Dict[str, int] = {}     # canonical point key -> its RUNNING trial number
        self._n_trials = 0

    def suggest(self) -> Optional[Point]:
        from optuna.trial import TrialState
        if self.size is not None and self.issued_count >= self.size:
            return None
        for _ in range(self.max_retries + 1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                trial = self.study.ask(self.encoding.distributions)
            self._n_trials += 1
            point = self.encoding.decode(trial.params)
            key = canonical_key(point)
            if not self.is_issued(point) and key not in self._trial_of:
                self._trial_of[key] = trial.number
                return point
            self.study.tell(trial, state=TrialState.FAIL)
        return random_unissued(self.space, self.rng, self.is_issued)

    def mark_issued(self, point: Point) -> None:
        super().mark_issued(point)
        key = canonical_key(point)
        if key not in self._trial_of:
            params = self.encoding.encode(point)
            if params is not None:
                self._trial_of[key] = self._add_trial(params)

    def constraints_observed(self, point: Point, violations: Sequence[float]) -> None:
        self._violations[canonical_key(point)] = tuple(float(v) for v in violations)

    def observe(self, point: Point, reward) -> None:
        """``reward``: one value per objective (a plain number with one objective), or None."""
        from optuna.trial import TrialState
        key = canonical_key(point)
        number = self._trial_of.pop(key, None)
        if number is None:                      # observed again (a rerun), or never issued through us
            params = self.encoding.encode(point)
            if params is None:
                return
            number = self._add_trial(params)
        self._trial_violations[number] = self._violations.pop(key, ())
        values = None if reward is None else ([reward] if isinstance(reward, (int, float)) else list(reward))
        if values is None or any(v != v for v in values):
            self.study.tell(number, state=TrialState.FAIL)
        else:
            self.study.tell(number, [float(v) for v in values])

    def _add_trial(self, params) -> int:
        import optuna
        from optuna.trial import TrialState
        self.study.add_trial(optuna.trial.create_trial(params=params, distributions=self.encoding.distributions,
                                                       state=TrialState.RUNNING))
        self._n_trials += 1
        return self._n_trials - 1
