"""SkoptSearcher: Bayesian optimisation with ``skopt.Optimizer`` (scikit-optimize, the ``searchers`` extra).

Every gml dimension maps onto a skopt dimension: Categorical and Nested become a skopt Categorical over the choice
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

from typing import Any, Dict, List, Optional

from ...errors import GmlConfigError
from ...registry import SEARCHERS
from ..space.dimensions import Categorical, Int, Nested, Real
from .base import Point
from ..space.encoding import choice_index, choice_key, import_extra, snap
from .observations import ObservingSearcher, random_unissued

BASE_ESTIMATORS = ("GP", "RF", "ET", "GBRT", "DUMMY")
ACQ_FUNCS = ("gp_hedge", "EI", "PI", "LCB")
ACQ_OPTIMIZERS = ("auto", "sampling", "lbfgs")
POINT_GENERATORS = ("random", "sobol", "halton", "hammersly", "lhs", "grid")
LIAR_STRATEGIES = ("cl_min", "cl_mean", "cl_max")


class SkoptEncoding:
    """gml point <-> skopt point, for the dimensions that vary (constants are held aside)."""

    def __init__(self, space):
        from skopt.space import Categorical as SCategorical, Integer as SInteger, Real as SReal
        self.space = space
        self.constants: Dict[str, Any] = {}
        self.free: List[Any] = []            # gml dimensions that skopt sees, in order
        self.dimensions: List[Any] = []      # their skopt dimensions
        self._index: Dict[str, Dict[str, int]] = {}
        for d in space.dimensions:
            if isinstance(d, (Categorical, Nested)):
                if len(d.choices) == 1:
                    self.constants[d.key] = dict(d.choices[0]) if isinstance(d, Nested) else d.choices[0]
                    continue
                self._index[d.key] = choice_index(d)
                dim = SCategorical(list(range(len(d.choices))), name=d.key)
            elif isinstance(d, Int):
                top = d.low + (d.high - d.low) // d.step * d.step
                if top == d.low:
                    self.constants[d.key] = d.low
                    continue
                dim = SInteger(d.low, top, prior="log-uniform" if d.log else "uniform", name=d.key)
            elif isinstance(d, Real):
                top = d.grid()[-1] if d.step is not None else d.high
                if top == d.low:
                    self.constants[d.key] = d.grid()[0] if d.step is not None else d.low
                    continue
                dim = SReal(d.low, top, prior="log-uniform" if d.log else "uniform", name=d.key)
            else:
                raise GmlConfigError(space.sources.get(d.key, d.key),
                                     f"SkoptSearcher does not know the dimension type {type(d).__name__}")
            self.free.append(d)
            self.dimensions.append(dim)

    def encode(self, point: Point) -> Optional[list]:
        """The skopt point of a gml point, or None when the point is not in the space (e.g. an edited config)."""
        if not self.space.contains(point):
            return None
        x = []
        for d, dim in zip(self.free, self.dimensions):
            value = point[d.key]
            if isinstance(d, (Categorical, Nested)):
                x.append(self._index[d.key][choice_key(d, value)])
            elif isinstance(d, Int):
                x.append(int(value))
            else:
                x.append(min(max(float(value), dim.low), dim.high))
        return x

    def decode(self, x) -> Point:
        """The gml point of a skopt point: values snapped to steps and clipped to bounds, in the space's order."""
        values = {}
        for d, value in zip(self.free, x):
            if isinstance(d, Nested):
                values[d.key] = dict(d.choices[int(value)])
            elif isinstance(d, Categorical):
                values[d.key] = d.choices[int(value)]
            elif isinstance(d, Int):
                values[d.key] = snap(d, int(round(float(value))))
            else:
                values[d.key] = snap(d, float(value))
        values.update(self.constants)
        return {d.key: values[d.key] for d in self.space.dimensions}


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
            raise GmlConfigError("searcher.random_state", f"give seed or random_state, not both "
                                                          f"(got {seed!r} and {random_state!r})")
        super().__init__(space, optimize_mode, seed if seed is not None else random_state)
        import_extra("skopt", "SkoptSearcher", "scikit-optimize")
        if isinstance(base_estimator, str):
            if base_estimator.upper() not in BASE_ESTIMATORS:
                raise GmlConfigError("searcher.base_estimator", f"expected one of {', '.join(BASE_ESTIMATORS)} "
                                                                f"(or a scikit-learn regressor), got {base_estimator!r}")
            base_estimator = base_estimator.upper()
        self._choice("acq_func", acq_func, ACQ_FUNCS)
        self._choice("acq_optimizer", acq_optimizer, ACQ_OPTIMIZERS)
        self._choice("initial_point_generator", initial_point_generator, POINT_GENERATORS)
        self._choice("liar_strategy", liar_strategy, LIAR_STRATEGIES)
        for name, value, least in (("n_initial_points", n_initial_points, 0), ("max_model_points", max_model_points, 10),
                                   ("max_pending", max_pending, 1), ("n_jobs", n_jobs, -1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise GmlConfigError(f"searcher.{name}", f"expected an integer >= {least}, got {value!r}")
        for name, value in (("acq_func_kwargs", acq_func_kwargs), ("acq_optimizer_kwargs", acq_optimizer_kwargs)):
            if value is not None and not isinstance(value, dict):
                raise GmlConfigError(f"searcher.{name}", f"expected a mapping, got {value!r}")
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
                raise GmlConfigError("searcher", f"SkoptSearcher: skopt.Optimizer refused the keywords: {err}") from None

    @staticmethod
    def _choice(name, value, valid):
        if value not in valid:
            raise GmlConfigError(f"searcher.{name}", f"expected one of {', '.join(valid)}, got {value!r}")

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
