"""What the searchers built on an Optuna sampler (TPESearcher, GPSearcher, CMAESSearcher, NSGA2Searcher) share:
importing Optuna quietly, turning gml points into Optuna trials (through ``OptunaEncoding``), and ``StudySearcher``,
the ask/tell bookkeeping of a searcher whose sampler keeps its state in a long-lived study, for one objective or
several."""
from __future__ import annotations

import math
import warnings
from typing import Any, Dict, List, Optional, Sequence

from ...validation import Keyword, invalid, one_of
from ..objectives import MODES
from ..space.dimensions import canonical_key
from ..space.encoding import OptunaEncoding, import_extra
from .base import Point
from .observations import ObservingSearcher, random_unissued


def import_optuna(searcher: str) -> Any:
    """The optuna module (the ``searchers`` extra), its per-trial INFO log lines silenced."""
    optuna = import_extra("optuna", searcher, "optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def make_trial(encoding, point: Point, value: Optional[float], system_attrs: Optional[dict] = None):
    """A FrozenTrial at ``point``: COMPLETE with ``value``, or RUNNING when ``value`` is None; None when the
    point is not in the space (``encoding.encode`` refuses it)."""
    import optuna
    from optuna.trial import TrialState
    params = encoding.encode(point)
    if params is None:
        return None
    state = TrialState.RUNNING if value is None else TrialState.COMPLETE
    return optuna.trial.create_trial(params=params, distributions=encoding.distributions, state=state,
                                     value=None if value is None else float(value), system_attrs=system_attrs)


def objective_directions(directions: Optional[Sequence[str]], optimize_mode: str) -> List[str]:
    """One optimize_mode per objective: ``directions`` (the controller passes the modes of
    ``searcher.reward_attribute``'s objectives), or ``[optimize_mode]`` when not given."""
    if directions is None:
        return [optimize_mode]
    if isinstance(directions, str) or not isinstance(directions, (list, tuple)) or not directions:
        raise invalid(Keyword("directions"), directions, "a non-empty list of maximize/minimize")
    return [one_of(Keyword(f"directions[{i}]"), mode, MODES) for i, mode in enumerate(directions)]


class StudySearcher(ObservingSearcher):
    """A searcher around one Optuna sampler whose state lives in its study (TPESearcher, CMAESSearcher,
    NSGA2Searcher).

    Subclasses call ``StudySearcher.__init__`` (``directions``: one mode per objective, see
    ``objective_directions``), build their sampler (a constraint-aware one with
    ``constraints_func=self.trial_constraints``), then call ``_start_study(sampler, max_retries)``. Then:

    - one in-memory study lives as long as the searcher, with one direction per objective; it is told each job's
      objective values as they are (``observe(point, values)``: a list with one value per objective, or a plain
      number with one objective). ``self._obs`` records the first objective's score (the job's reward);
    - every issued point is a RUNNING trial until it is observed (asked ones, and the ones ``mark_issued`` adds:
      replayed points on resume, random fallbacks);
    - a failed job (reward None, or a NaN value) is, with ``fail_as_worst`` (the default), told the worst value
      of each objective the study was told before it (the nadir), so the sampler counts its region among the bad
      ones; a FAIL trial (which the samplers skip) while nothing has values, or always when ``fail_as_worst`` is
      False;
    - ``constraints_observed`` violations reach the sampler's ``constraints_func`` (``trial_constraints``) when
      the job's trial is told;
    - a proposal already issued is told FAIL and the sampler asked again, up to ``max_retries`` times; then a
      random unissued point;
    - a point observed again (a rerun) is added and told again.
    """

    #: how a failed job is told: the nadir of the values told so far (True) or a FAIL trial (False)
    fail_as_worst = True

    def __init__(self, space, optimize_mode: str = "maximize", seed: Optional[int] = None,
                 directions: Optional[Sequence[str]] = None):
        super().__init__(space, optimize_mode, seed)
        self.directions = objective_directions(directions, optimize_mode)
        self._violations: Dict[str, Sequence[float]] = {}        # canonical point key -> its violations
        self._trial_violations: Dict[int, Sequence[float]] = {}  # trial number -> violations, read when told
        self._worst: Optional[List[float]] = None                # per objective, the worst value told so far

    def _start_study(self, sampler, max_retries: int) -> None:
        import optuna

        self.study = optuna.create_study(directions=self.directions, sampler=sampler)
        self.encoding = OptunaEncoding(self.space)
        self.max_retries = max_retries
        self._trial_of: Dict[str, int] = {}     # canonical point key -> its RUNNING trial number
        self._n_trials = 0                       # trials in the study (asked or added)

    def suggest(self) -> Optional[Point]:
        from optuna.trial import TrialState
        if self.exhausted():
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
            trial = make_trial(self.encoding, point, None)
            if trial is not None:
                self._trial_of[key] = self._add(trial)

    def constraints_observed(self, point: Point, violations: Sequence[float]) -> None:
        self._violations[canonical_key(point)] = tuple(float(v) for v in violations)

    def trial_constraints(self, trial) -> Sequence[float]:
        """A told trial's violations, for a sampler's ``constraints_func`` (none: feasible)."""
        return self._trial_violations.get(trial.number, ())

    def objective_values(self, reward) -> Optional[List[float]]:
        """``reward`` as one float per objective, or None when the job failed (None, or a NaN value). A count of
        values other than the number of objectives is the caller's error (ValueError)."""
        if reward is None:
            return None
        values = [reward] if isinstance(reward, (int, float)) else list(reward)
        if len(values) != len(self.directions):
            raise ValueError(f"{type(self).__name__} optimises {len(self.directions)} objectives, was told "
                             f"{len(values)} values: {reward!r}")
        if any(v is None or math.isnan(v) for v in values):
            return None
        return [float(v) for v in values]

    def observe(self, point: Point, reward) -> None:
        """``reward``: one value per objective (a plain number with one objective), or None when the job failed."""
        from optuna.trial import TrialState
        values = self.objective_values(reward)
        first = None if values is None else values[0] if self.directions[0] == "maximize" else -values[0]
        self._obs.observe(point, first)
        if values is None and self.fail_as_worst:
            values = self._worst
        key = canonical_key(point)
        number = self._trial_of.pop(key, None)     # only RUNNING trials are kept there
        if number is None:                         # observed again (a rerun)
            trial = make_trial(self.encoding, point, None)
            if trial is None:
                return
            number = self._add(trial)
        self._trial_violations[number] = self._violations.pop(key, ())
        if values is None:
            self.study.tell(number, state=TrialState.FAIL)
        else:
            self._remember_worst(values)
            self.study.tell(number, values)

    def _remember_worst(self, values: List[float]) -> None:
        if self._worst is None:
            self._worst = list(values)
            return
        pick = {"maximize": min, "minimize": max}
        self._worst = [pick[mode](old, new) for mode, old, new in zip(self.directions, self._worst, values)]

    def _add(self, trial) -> int:
        """Add a trial to the study; its number (trial numbers count up from 0 in a study)."""
        self.study.add_trial(trial)
        self._n_trials += 1
        return self._n_trials - 1
