"""SkoptSearcher: Bayesian optimisation with ``skopt.Optimizer`` (scikit-optimize, the ``searchers`` extra).

Every gml dimension maps onto a skopt dimension (``gml.search.space.encoding.SkoptEncoding``): Categorical and Nested become a skopt Categorical over the choice
indices (so any JSON value or bundle works), Int a skopt Integer (log-uniform with ``log``; a ``step`` snaps the
proposal to the grid), Real a skopt Real (log-uniform with ``log``; a ``step`` snaps to the grid). File inner args
are plain dimensions of the space. Dimensions with a single value are held constant outside skopt.

How a suggestion is made:

- *initial design*: until ``n_initial_points`` jobs have a reward, points come from ``initial_point_generator``
  (``random``: independent draws; ``sobol``/``halton``/``hammersly``/``lhs``/``grid``: that design, in order);
- *model phase*: a fresh ``skopt.Optimizer`` (the YAML's keywords, a random_state drawn from the searcher's seeded
  generator) is told the history in one call, so the surrogate is fitted once per suggestion, then asked. Observing
  is only bookkeeping; that also keeps a resume (which replays every finished job) instant;
- *parallel slots* (constant liar): points issued but not observed yet (running jobs, and ones a filter dropped)
  are told with a lie, the best reward seen (``liar_strategy: cl_min``, skopt's default), the mean (``cl_mean``)
  or the worst (``cl_max``), so free slots get different points, as with ``Optimizer.ask(n_points)``;
- *failed jobs* (reward None) are told the worst reward seen so far, not skipped: the surrogate then learns that
  the region failed (a too-high learning rate diverges again) without distorting its scale as -inf would; until
  some job has a reward they are left out of the model. They can never be the best point;
- *latency bound*: the surrogate is fitted on at most ``max_model_points`` observations (default 64): the best
  half by reward plus the most recent ones, on one BLAS thread (small matrices; a shared login node). A GP refit
  is cubic in the points it sees (and skopt refits its kernel hyper-parameters each time), so this caps the cost
  however long the history grows: after 1,000 Hartmann6 trials a suggestion took ~0.5 s CPU with 64 points,
  1.7 s with 128, 4.7 s with 256 (benchmarks/search_quality.py). Forests and GBRT are capped the same way;
- a proposal that is already issued (snapped to a used grid point, or outside the window) is replaced by another
  acquisition function's candidate, then by a random unissued point.

The ``gp_hedge`` gains are carried from one suggestion to the next in memory; like every other state they are
rebuilt from the store on resume (the gains start afresh).
"""
from __future__ import annotations

from typing import List, Optional

from ...registry import SEARCHERS
from ...validation import Keyword, config_error, integer, invalid, mapping, one_of
from ..space.encoding import SkoptEncoding, import_extra
from .base import Point
from .observations import ObservingSearcher, random_unissued

BASE_ESTIMATORS = ("GP", "RF", "ET", "GBRT", "DUMMY")
ACQ_FUNCS = ("gp_hedge", "EI", "PI", "LCB")
ACQ_OPTIMIZERS = ("auto", "sampling", "lbfgs")
POINT_GENERATORS = ("random", "sobol", "halton", "hammersly", "lhs", "grid")
LIAR_STRATEGIES = ("cl_min", "cl_mean", "cl_max")


@SEARCHERS.register_module()
class SkoptSearcher(ObservingSearcher):
    """Bayesian optimisation over any gml space; keywords are ``skopt.Optimizer``'s (see the module docstring)
    plus ``max_model_points`` (latency bound), ``liar_strategy`` (parallel slots) and ``seed``/``random_state``."""

    def __init__(self, space, optimize_mode="maximize", seed=None, random_state=None, base_estimator="GP",
                 n_initial_points: int = 10, initial_point_generator: str = "random", acq_func: str = "gp_hedge",
                 acq_optimizer: str = "auto", acq_func_kwargs: Optional[dict] = None,
                 acq_optimizer_kwargs: Optional[dict] = None, n_jobs: int = 1, max_model_points: int = 64,
                 liar_strategy: str = "cl_min", max_pending: int = 64):
        if seed is not None and random_state is not None and seed != random_state:
            raise config_error(Keyword("random_state"), f"give seed or random_state, not both "
                                                        f"(got {seed!r} and {random_state!r})")
        super().__init__(space, optimize_mode, seed if seed is not None else random_state)
        import_extra("skopt", "SkoptSearcher", "scikit-optimize")
        if isinstance(base_estimator, str):
            if base_estimator.upper() not in BASE_ESTIMATORS:
                raise invalid(Keyword("base_estimator"), base_estimator,
                              f"one of {', '.join(BASE_ESTIMATORS)} (or a scikit-learn regressor)")
            base_estimator = base_estimator.upper()
        one_of(Keyword("acq_func"), acq_func, ACQ_FUNCS)
        one_of(Keyword("acq_optimizer"), acq_optimizer, ACQ_OPTIMIZERS)
        one_of(Keyword("initial_point_generator"), initial_point_generator, POINT_GENERATORS)
        one_of(Keyword("liar_strategy"), liar_strategy, LIAR_STRATEGIES)
        integer(Keyword("n_initial_points"), n_initial_points, least=0)
        integer(Keyword("max_model_points"), max_model_points, least=10)
        integer(Keyword("max_pending"), max_pending, least=1)
        integer(Keyword("n_jobs"), n_jobs, least=-1)
        mapping(Keyword("acq_func_kwargs"), acq_func_kwargs, optional=True)
        mapping(Keyword("acq_optimizer_kwargs"), acq_optimizer_kwargs, optional=True)
        self.n_initial_points = n_initial_points
        self.initial_point_generator = initial_point_generator
        self.max_model_points = max_model_points
        self.liar_strategy = liar_strategy
        self.max_pending = max_pending
        self._options = dict(base_estimator=base_estimator, acq_func=acq_func, acq_optimizer=acq_optimizer,
                             acq_func_kwargs=acq_func_kwargs, acq_optimizer_kwargs=acq_optimizer_kwargs, n_jobs=n_jobs)
        self.encoding = SkoptEncoding(space)
        self._design: Optional[List[Point]] = None
        self._hedge = None                   # (gains_, next_xs_) carried between suggestions for gp_hedge
        if self.encoding.dimensions:
            try:   # surface skopt's own keyword errors now, at config-validation time
                self._optimizer(0)
            except (ValueError, TypeError) as err:
                raise config_error(Keyword(""), f"SkoptSearcher: skopt.Optimizer refused the keywords: {err}") \
                    from None

    def _optimizer(self, random_state: int):
        import skopt
        return skopt.Optimizer(self.encoding.dimensions, n_initial_points=0, random_state=random_state,
                               **self._options)

    # -- the Searcher contract -----------------------------------------------------------------------------------
    def suggest(self) -> Optional[Point]:
        if self.exhausted():
            return None
        if not self.encoding.dimensions:
            point = self.encoding.decode([])
            return None if self.is_issued(point) else point
        if len(self._obs.scored()) < max(self.n_initial_points, 2):
            return self._initial()
        return self._from_model()

    # -- phases ----------------------------------------------------------------------------------------------------
    def _initial(self) -> Optional[Point]:
        if self.initial_point_generator != "random" and self.n_initial_points > 0:
            if self._design is None:
                from skopt.space import Space
                from skopt.utils import cook_initial_point_generator
                generator = cook_initial_point_generator(self.initial_point_generator)
                xs = generator.generate(Space(self.encoding.dimensions).dimensions, self.n_initial_points,
                                        random_state=self.rng.randrange(2 ** 31))
                self._design = [self.encoding.decode(x) for x in xs]
            for point in self._design:
                if not self.is_issued(point):
                    return point
        return random_unissued(self.space, self.rng, self.is_issued)

    def _model_rows(self):
        """(X, y) for the surrogate: skopt minimises, so y = -score; failed = the worst score; windowed."""
        worst = self._obs.worst_score()
        rows = []
        for point, score in self._obs.window(self.max_model_points):
            x = self.encoding.encode(point)
            if x is None or (score is None and worst is None):
                continue
            rows.append((x, -(score if score is not None else worst)))
        return [x for x, _ in rows], [y for _, y in rows]

    def _lie(self, ys: List[float]) -> float:
        if self.liar_strategy == "cl_min":
            return min(ys)
        if self.liar_strategy == "cl_max":
            return max(ys)
        return sum(ys) / len(ys)

    def _from_model(self) -> Optional[Point]:
        import warnings

        from threadpoolctl import threadpool_limits   # a scikit-learn dependency
        X, y = self._model_rows()
        pending = [x for x in map(self.encoding.encode, self._obs.pending(self.max_pending)) if x is not None]
        if pending:
            lie = self._lie(y)
            X, y = X + pending, y + [lie] * len(pending)
        opt = self._optimizer(self.rng.randrange(2 ** 31))
        if self._hedge is not None and hasattr(opt, "gains_"):
            opt.gains_, opt.next_xs_ = self._hedge[0].copy(), list(self._hedge[1])
        # The matrices are small: one BLAS thread is fastest, and much faster on a shared login node.
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            opt.tell(X, y)
            candidates = [opt.ask()]
        if hasattr(opt, "gains_"):
            self._hedge = (opt.gains_.copy(), list(opt.next_xs_))
        for x in getattr(opt, "next_xs_", []):
            candidates.append(opt.space.inverse_transform(x.reshape((1, -1)))[0])
        for x in candidates:
            point = self.encoding.decode(x)
            if not self.is_issued(point):
                return point
        return random_unissued(self.space, self.rng, self.is_issued)
