"""TPESearcher: Optuna's Tree-structured Parzen Estimator through its ask/tell interface (the ``searchers`` extra).

Dimensions map onto Optuna distributions (``gml.search.space.encoding.OptunaEncoding``): Categorical and Nested become a CategoricalDistribution over the choice
indices (any JSON value or bundle works), Int an IntDistribution (``step``; with ``log`` and a step > 1, which
Optuna cannot sample, a log IntDistribution whose draw is snapped to the grid), Real a FloatDistribution (``log``
or ``step``). File inner args are plain dimensions of the space.

- One in-memory Optuna study, direction maximize, told the score (``Searcher.score``: larger is better in either
  ``optimize_mode``). Every issued point is a RUNNING trial until observed, so Optuna's constant liar
  (``constant_liar: true``, the default here) keeps parallel slots apart.
- A failed job (reward None) is told the worst score seen so far (a FAIL trial while nothing has a score), so TPE
  counts its region among the bad ones instead of proposing it again; it is never the best.
- A proposal that is already issued is told FAIL (TPE ignores failed trials) and TPE is asked again, up to
  ``max_retries`` times; then a random unissued point is used.
- Constraints (``searcher.constraints``): each job's violations are handed to Optuna's constrained TPE through the
  sampler's ``constraints_func`` (a violation > 0 is infeasible): infeasible trials rank below every feasible one
  and, among themselves, by their total violation.
- Resume: ``restore`` replays the store (each issued point becomes a RUNNING trial, each finished one is told).
- Latency: Optuna's TPE is linear in the number of trials (per dimension); measured at 1,000 observed trials in
  ``benchmarks/search_quality.py``. Optuna's INFO log lines per trial are silenced (the optuna logger is set to
  WARNING when this searcher is built).

Keywords: ``seed``, ``n_startup_trials`` (10), ``n_ei_candidates`` (24), ``multivariate`` (Optuna's default:
multivariate TPE for one objective), ``group``,
``consider_prior``, ``prior_weight``, ``consider_magic_clip``, ``consider_endpoints``, ``constant_liar`` (True),
``max_retries`` (10).
"""
from __future__ import annotations

import warnings
from typing import Any, Dict, Optional, Sequence

from ...registry import SEARCHERS
from ...validation import Keyword, boolean, config_error, integer
from ..space.encoding import import_extra
from ..space.dimensions import canonical_key
from .base import Point
from .optuna_trials import StudySearcher


@SEARCHERS.register_module()
class TPESearcher(StudySearcher):
    """Optuna TPE over any gml space (see the module docstring)."""

    uses_constraints = True

    def __init__(self, space, optimize_mode="maximize", seed=None, n_startup_trials: int = 10,
                 n_ei_candidates: int = 24, multivariate: Optional[bool] = None, group: bool = False,
                 consider_prior: Optional[bool] = None, prior_weight: Optional[float] = None,
                 consider_magic_clip: Optional[bool] = None, consider_endpoints: Optional[bool] = None,
                 constant_liar: bool = True, max_retries: int = 10):
        super().__init__(space, optimize_mode, seed)
        optuna = import_extra("optuna", "TPESearcher", "optuna")
        integer(Keyword("n_startup_trials"), n_startup_trials, least=0)
        integer(Keyword("n_ei_candidates"), n_ei_candidates, least=1)
        integer(Keyword("max_retries"), max_retries, least=0)
        boolean(Keyword("multivariate"), multivariate, optional=True)
        boolean(Keyword("group"), group)
        boolean(Keyword("constant_liar"), constant_liar)
        given = dict(n_startup_trials=n_startup_trials, n_ei_candidates=n_ei_candidates, multivariate=multivariate,
                     group=group, consider_prior=consider_prior, prior_weight=prior_weight,
                     consider_magic_clip=consider_magic_clip, consider_endpoints=consider_endpoints,
                     constant_liar=constant_liar)
        kwargs = {k: v for k, v in given.items() if v is not None}
        self._violations: Dict[str, Sequence[float]] = {}         # canonical point key -> its violations
        # Optuna asks for a finished trial's violations (told before its value); without constraints every trial
        # has none, which Optuna counts as feasible: TPE is then unchanged
        kwargs["constraints_func"] = lambda trial: self._violations.get(
            canonical_key(self.encoding.decode(trial.params)), ())
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # ExperimentalWarning for multivariate/group/constant_liar
            try:
                sampler = optuna.samplers.TPESampler(seed=seed, **kwargs)
            except (TypeError, ValueError) as err:
                raise config_error(Keyword(""), f"TPESearcher: optuna's TPESampler refused the keywords: "
                                                   f"{err}") from None
        self._start_study(sampler, max_retries)

    def constraints_observed(self, point: Point, violations: Sequence[float]) -> None:
        self._violations[canonical_key(point)] = tuple(float(v) for v in violations)
