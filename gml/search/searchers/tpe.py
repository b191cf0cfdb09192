"""TPESearcher: Optuna's Tree-structured Parzen Estimator through its ask/tell interface (the ``searchers`` extra).

Dimensions map onto Optuna distributions (``gml.search.space.encoding.OptunaEncoding``): Categorical and Nested
become a CategoricalDistribution over the choice indices (any JSON value or bundle works), Int an IntDistribution
(``step``; with ``log`` and a step > 1, which Optuna cannot sample, a log IntDistribution whose draw is snapped to
the grid), Real a FloatDistribution (``log`` or ``step``). File inner args are plain dimensions of the space.

- One or several objectives (MOTPE): ``reward_attribute: [acc, params]`` with ``optimize_mode: [maximize,
  minimize]`` builds it with ``directions`` and tells it every objective's value of each finished job; Optuna's
  TPE then splits the history into its good and bad parts by non-domination rank (the last rank that fits cut by
  hypervolume subset selection). With several objectives Optuna's default is independent (not multivariate) TPE.
- The study bookkeeping is ``StudySearcher``'s: one in-memory Optuna study, one direction per objective, told the
  values as they are. Every issued point is a RUNNING trial until observed, so Optuna's constant liar
  (``constant_liar: true``, the default here) keeps parallel slots apart.
- A failed job (reward None) is told the worst value of each objective seen so far (a FAIL trial while nothing
  has a value), so TPE counts its region among the bad ones instead of proposing it again; it is never the best.
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
multivariate TPE for one objective, independent for several), ``group``,
``consider_prior``, ``prior_weight``, ``consider_magic_clip``, ``consider_endpoints``, ``constant_liar`` (True),
``max_retries`` (10).
"""
from __future__ import annotations

import warnings
from typing import List, Optional

from ...registry import SEARCHERS
from ...validation import Keyword, boolean, config_error, integer
from .optuna_trials import StudySearcher, import_optuna


@SEARCHERS.register_module()
class TPESearcher(StudySearcher):
    """Optuna TPE over any gml space, one objective or several (see the module docstring)."""

    multi_objective = True
    uses_constraints = True

    def __init__(self, space, optimize_mode="maximize", seed=None, directions: Optional[List[str]] = None,
                 n_startup_trials: int = 10,
                 n_ei_candidates: int = 24, multivariate: Optional[bool] = None, group: bool = False,
                 consider_prior: Optional[bool] = None, prior_weight: Optional[float] = None,
                 consider_magic_clip: Optional[bool] = None, consider_endpoints: Optional[bool] = None,
                 constant_liar: bool = True, max_retries: int = 10):
        super().__init__(space, optimize_mode, seed, directions)
        optuna = import_optuna("TPESearcher")
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
        # without constraints every trial has no violations, which Optuna counts as feasible: TPE is unchanged
        kwargs["constraints_func"] = self.trial_constraints
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # ExperimentalWarning for multivariate/group/constant_liar
            try:
                sampler = optuna.samplers.TPESampler(seed=seed, **kwargs)
            except (TypeError, ValueError) as err:
                raise config_error(Keyword(""), f"TPESearcher: optuna's TPESampler refused the keywords: "
                                                   f"{err}") from None
        self._start_study(sampler, max_retries)
