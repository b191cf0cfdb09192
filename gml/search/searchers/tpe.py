"""TPESearcher: Optuna's Tree-structured Parzen Estimator through its ask/tell interface (the ``searchers`` extra).

Dimensions map onto Optuna distributions: Categorical and Nested become a CategoricalDistribution over the choice
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
from typing import Any, Dict, Optional

from ...errors import GmlConfigError
from ...registry import SEARCHERS
from ..space.dimensions import Categorical, Int, Nested, Real
from .base import Point
from ..space.encoding import choice_index, choice_key, import_extra, snap
from .optuna_trials import StudySearcher


class OptunaEncoding:
    """gml point <-> Optuna params (one distribution per dimension key)."""

    def __init__(self, space):
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
        self.space = space
        self.distributions: Dict[str, Any] = {}
        self._index: Dict[str, Dict[str, int]] = {}
        for d in space.dimensions:
            if isinstance(d, (Categorical, Nested)):
                self._index[d.key] = choice_index(d)
                dist = CategoricalDistribution(list(range(len(d.choices))))
            elif isinstance(d, Int):
                top = d.low + (d.high - d.low) // d.step * d.step
                if d.log and d.step > 1:
                    dist = IntDistribution(d.low, top, log=True)
                else:
                    dist = IntDistribution(d.low, top, log=d.log, step=d.step)
            elif isinstance(d, Real):
                if d.step is not None:
                    grid = d.grid()
                    dist = FloatDistribution(grid[0], grid[-1], step=d.step)
                else:
                    dist = FloatDistribution(d.low, d.high, log=d.log)
            else:
                raise GmlConfigError(space.sources.get(d.key, d.key),
                                     f"TPESearcher does not know the dimension type {type(d).__name__}")
            self.distributions[d.key] = dist

    def encode(self, point: Point) -> Optional[Dict[str, Any]]:
        """Optuna params of a gml point, or None when it is not in the space."""
        if not self.space.contains(point):
            return None
        params = {}
        for d in self.space.dimensions:
            value = point[d.key]
            if isinstance(d, (Categorical, Nested)):
                params[d.key] = self._index[d.key][choice_key(d, value)]
            elif isinstance(d, Int):
                params[d.key] = int(value)
            else:
                dist = self.distributions[d.key]
                params[d.key] = min(max(float(value), dist.low), dist.high)
        return params

    def decode(self, params: Dict[str, Any]) -> Point:
        point = {}
        for d in self.space.dimensions:
            value = params[d.key]
            if isinstance(d, Nested):
                point[d.key] = dict(d.choices[int(value)])
            elif isinstance(d, Categorical):
                point[d.key] = d.choices[int(value)]
            elif isinstance(d, Int):
                point[d.key] = snap(d, int(value))
            else:
                point[d.key] = snap(d, float(value))
        return point




@SEARCHERS.register_module()
class TPESearcher(StudySearcher):
    """Optuna TPE over any gml space (see the module docstring)."""

    def __init__(self, space, optimize_mode="maximize", seed=None, n_startup_trials: int = 10,
                 n_ei_candidates: int = 24, multivariate: Optional[bool] = None, group: bool = False,
                 consider_prior: Optional[bool] = None, prior_weight: Optional[float] = None,
                 consider_magic_clip: Optional[bool] = None, consider_endpoints: Optional[bool] = None,
                 constant_liar: bool = True, max_retries: int = 10):
        super().__init__(space, optimize_mode, seed)
        optuna = import_extra("optuna", "TPESearcher", "optuna")
        for name, value in (("n_startup_trials", n_startup_trials), ("n_ei_candidates", n_ei_candidates),
                            ("max_retries", max_retries)):
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if name == "n_ei_candidates" else 0):
                raise GmlConfigError(f"searcher.{name}", f"expected a non-negative integer, got {value!r}")
        given = dict(n_startup_trials=n_startup_trials, n_ei_candidates=n_ei_candidates, multivariate=multivariate,
                     group=group, consider_prior=consider_prior, prior_weight=prior_weight,
                     consider_magic_clip=consider_magic_clip, consider_endpoints=consider_endpoints,
                     constant_liar=constant_liar)
        for name in ("multivariate", "group", "constant_liar"):
            if not isinstance(given[name], bool) and not (name == "multivariate" and given[name] is None):
                raise GmlConfigError(f"searcher.{name}", f"expected true or false, got {given[name]!r}")
        kwargs = {k: v for k, v in given.items() if v is not None}
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # ExperimentalWarning for multivariate/group/constant_liar
            try:
                sampler = optuna.samplers.TPESampler(seed=seed, **kwargs)
            except (TypeError, ValueError) as err:
                raise GmlConfigError("searcher", f"TPESearcher: optuna's TPESampler refused the keywords: {err}") from None
        self._start_study(sampler, max_retries)
