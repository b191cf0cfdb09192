"""CMAESSearcher: CMA-ES, Optuna's CmaEsSampler driven through ask/tell (the ``searchers`` extra).

CMA-ES adapts a Gaussian (mean, step size, covariance) over the numeric dimensions from generations of
``popsize`` evaluated points; it needs more evaluations than a GP but each suggestion is cheap and independent of
the history's length, so it suits long searches over continuous spaces (roughly 100 trials and more).

- Numeric dimensions (Int, Real; ``log`` ones on the log scale) are CMA-ES's. Categorical and Nested ones (File
  inner bundles too) are drawn by Optuna's seeded RandomSampler: CMA-ES has no model of them, so prefer
  GPSearcher or TPESearcher for spaces that are mostly categorical. ``with_margin: true`` keeps the
  distribution from collapsing onto one value of a discrete (Int, stepped Real) dimension.
- The study bookkeeping is ``StudySearcher``'s (CMA-ES keeps its state in the study's trials): every issued
  point is a RUNNING trial until observed; CMA-ES ignores running trials, but each ask is a new draw from the
  current Gaussian, so parallel slots differ. A failed job is told the worst score seen so far: it ranks last in
  its generation instead of stalling it. A proposal already issued is told FAIL and CMA-ES asked again, up to
  ``max_retries`` times; then a random unissued point.
- Resume: CMA-ES's own state is not in gml's store. ``restore`` replays the store into the study and, once at
  least 10 finished jobs have a score, starts a warm-started CMA-ES (WS-CMA-ES, Optuna's ``source_trials``: the
  initial mean and covariance come from the best replayed points) instead of starting again from the centre of
  the space. With ``use_separable_cma`` (which cannot be warm-started) a resumed search starts afresh.

Keywords: ``seed``, ``popsize`` (null: 4 + 3 ln(dimensions)), ``n_startup_trials`` (1), ``use_separable_cma``
(False), ``with_margin`` (False), ``lr_adapt`` (False), ``max_retries`` (10).
"""
from __future__ import annotations

import warnings
from typing import Optional

from ...registry import SEARCHERS
from ...validation import Keyword, boolean, config_error, integer
from .optuna_trials import StudySearcher, import_optuna

WARM_START_MIN_POINTS = 10   # the warm start fits its Gaussian to the best 10% of the replayed points


@SEARCHERS.register_module()
class CMAESSearcher(StudySearcher):
    """CMA-ES over any gml space (see the module docstring)."""

    def __init__(self, space, optimize_mode="maximize", seed=None, popsize: Optional[int] = None,
                 n_startup_trials: int = 1, use_separable_cma: bool = False, with_margin: bool = False,
                 lr_adapt: bool = False, max_retries: int = 10):
        super().__init__(space, optimize_mode, seed)
        import_optuna("CMAESSearcher")
        integer(Keyword("popsize"), popsize, least=2, optional=True)
        integer(Keyword("n_startup_trials"), n_startup_trials, least=0)
        integer(Keyword("max_retries"), max_retries, least=0)
        for name, value in (("use_separable_cma", use_separable_cma), ("with_margin", with_margin),
                            ("lr_adapt", lr_adapt)):
            boolean(Keyword(name), value)
        self._options = dict(seed=seed, popsize=popsize, n_startup_trials=n_startup_trials,
                             use_separable_cma=use_separable_cma, with_margin=with_margin, lr_adapt=lr_adapt,
                             warn_independent_sampling=False)
        self._start_study(self._sampler(), max_retries)

    def _sampler(self, source_trials=None):
        import optuna
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # ExperimentalWarning for the optional variants
            try:
                return optuna.samplers.CmaEsSampler(source_trials=source_trials, **self._options)
            except ValueError as err:
                raise config_error(Keyword(""), f"CMAESSearcher: optuna's CmaEsSampler refused the keywords: "
                                                 f"{err}") from None

    def restore(self, history) -> None:
        """Replay the store (see the module docstring): then warm-start CMA-ES from the scored points."""
        super().restore(history)
        source = self._warm_start_trials()
        if len(source) >= WARM_START_MIN_POINTS and not self._options["use_separable_cma"]:
            self.study.sampler = self._sampler(source_trials=source)

    def _warm_start_trials(self) -> list:
        """The study's finished trials cut down to the args CMA-ES models (numeric, more than one value): a warm
        start takes only trials whose args are exactly those. Empty when no arg is CMA-ES's."""
        import optuna
        from optuna.distributions import FloatDistribution, IntDistribution
        from optuna.trial import TrialState
        numeric = {name: d for name, d in self.encoding.distributions.items()
                   if isinstance(d, (FloatDistribution, IntDistribution)) and not d.single()}
        if not numeric:
            return []
        return [optuna.trial.create_trial(params={name: t.params[name] for name in numeric}, distributions=numeric,
                                          value=t.value)
                for t in self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
