"""GPSearcher: Gaussian-process Bayesian optimisation, Optuna's GPSampler driven through ask/tell (the ``gp`` extra:
the ``searchers`` extra plus torch, which Optuna's GP is written in; without torch, building it is a config error
at ``searcher.type`` that names the extra).

Why Optuna's GPSampler: Optuna is already the ``searchers`` extra, and its GP is a strong one for small budgets
(Matern-5/2 kernel with one lengthscale per dimension under a prior, a Hamming-distance kernel for categorical
dimensions, log expected improvement maximised by a mixed continuous/discrete optimiser, q-batch log EI over
running trials). On benchmarks/search_quality.py it is the best peer (docs/searchers.md has the table). BoTorch
would add botorch, gpytorch and linear_operator for the same model family with no measured gain here.

How a suggestion is made:

- *a fresh in-memory study per suggestion*, direction maximize, holding the model's view of the history
  (``Observations.window``): every observed point as a COMPLETE trial told its score (``Searcher.score``: larger
  is better); the sampler object (its seeded generators and its cache of fitted kernel parameters) is kept from
  one suggestion to the next. Building the study from the store's history is also the whole of a resume:
  ``restore`` only replays the bookkeeping;
- *initial design*: until ``n_startup_trials`` (default 10) points have a score, Optuna's seeded RandomSampler;
- *parallel slots*: every issued, not yet observed point (running jobs and ones a filter dropped, the
  ``max_pending`` most recent) is a RUNNING trial. Optuna's GPSampler (5.x) then maximises q-batch log EI: the
  running points enter the GP with their posterior mean as value (kriging believer) and the candidate is scored
  jointly with them, so free slots get different points without any lie of ours;
- *failed jobs* (reward None) are told the worst score seen so far, so the GP learns that the region failed; until
  some job has a score they are left out. They are never the best point;
- *latency bound*: the GP sees at most ``max_model_points`` observations (default 200: the best half plus the most
  recent ones). Fitting is cubic in them: after 1,000 observed Hartmann6 trials a suggestion cost a median 0.13 s
  CPU with the 200-point window, 0.08 s with 100 points and 1.3 s with no window (the first one, with no fitted
  kernel to start from, much more); benchmarks/search_quality.py measures it, and the regret a window costs;
- *no repeats*: a proposal that is already issued stays in the study as a running trial (so the next proposal is
  steered away from it) and the GP is asked again, up to ``max_retries`` times; then a random unissued point.

Keywords: ``seed``, ``n_startup_trials`` (10), ``deterministic_objective`` (False: the GP fits a noise term; True
for noiseless objectives), ``max_model_points`` (200, >= 10, or null for no window), ``max_pending`` (16),
``max_retries`` (2).
"""
from __future__ import annotations

import warnings
from typing import Optional

from ...registry import SEARCHERS
from ...validation import Keyword, boolean, integer
from ..space.encoding import OptunaEncoding, import_extra
from .base import Point
from .observations import ObservingSearcher, random_unissued
from .optuna_trials import import_optuna, make_trial


@SEARCHERS.register_module()
class GPSearcher(ObservingSearcher):
    """Gaussian-process BO over any gml space (see the module docstring)."""

    def __init__(self, space, optimize_mode="maximize", seed=None, n_startup_trials: int = 10,
                 deterministic_objective: bool = False, max_model_points: Optional[int] = 200,
                 max_pending: int = 16, max_retries: int = 2):
        super().__init__(space, optimize_mode, seed)
        optuna = import_optuna("GPSearcher")
        import_extra("torch", "GPSearcher", "torch", extra="gp")
        integer(Keyword("n_startup_trials"), n_startup_trials, least=0)
        integer(Keyword("max_model_points"), max_model_points, least=10, optional=True)
        integer(Keyword("max_pending"), max_pending, least=0)
        integer(Keyword("max_retries"), max_retries, least=0)
        boolean(Keyword("deterministic_objective"), deterministic_objective)
        self.max_model_points = max_model_points
        self.max_pending = max_pending
        self.max_retries = max_retries
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # ExperimentalWarning for deterministic_objective
            self.sampler = optuna.samplers.GPSampler(seed=seed, n_startup_trials=n_startup_trials,
                                                     deterministic_objective=deterministic_objective,
                                                     warn_independent_sampling=False)
        self.encoding = OptunaEncoding(space)

    def suggest(self) -> Optional[Point]:
        if self.exhausted():
            return None
        study = self._study()
        for _ in range(self.max_retries + 1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                trial = study.ask(self.encoding.distributions)   # stays RUNNING: a repeat steers the next ask
            point = self.encoding.decode(trial.params)
            if not self.is_issued(point):
                return point
        return random_unissued(self.space, self.rng, self.is_issued)

    def _study(self):
        """A study holding the GP's view of the history: scored and failed observations, then pending points."""
        import optuna
        worst = self._obs.worst_score()
        trials = []
        for point, score in self._obs.window(self.max_model_points):
            value = score if score is not None else worst
            if value is not None:
                trials.append(make_trial(self.encoding, point, value))
        for point in self._obs.pending(self.max_pending):
            trials.append(make_trial(self.encoding, point, None))
        study = optuna.create_study(direction="maximize", sampler=self.sampler)
        study.add_trials([t for t in trials if t is not None])
        return study

