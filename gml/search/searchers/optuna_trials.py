"""What the searchers built on an Optuna sampler (TPESearcher, GPSearcher, CMAESSearcher) share: importing
Optuna quietly, checking their keywords, turning gml points into Optuna trials (through ``OptunaEncoding``), and
``StudySearcher``, the ask/tell bookkeeping of a searcher whose sampler keeps its state in a long-lived study.

Scores are told as they are (``Searcher.score``: larger is better), to a study whose direction is maximize."""
from __future__ import annotations

import warnings
from typing import Any, Dict, Optional

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


class StudySearcher(ObservingSearcher):
    """A searcher around one Optuna sampler whose state lives in its study (TPESearcher, CMAESSearcher).

    Subclasses call ``_start_study(sampler, max_retries)`` in ``__init__`` after the base initialiser. Then:

    - one in-memory study, direction maximize, lives as long as the searcher; it is told scores
      (``Searcher.score``: larger is better);
    - every issued point is a RUNNING trial until it is observed (asked ones, and the ones ``mark_issued`` adds:
      replayed points on resume, random fallbacks);
    - a failed job (reward None) is told the worst score seen before it, so the sampler counts its region among
      the bad ones; a FAIL trial (which the samplers skip) while nothing has a score;
    - a proposal already issued is told FAIL and the sampler asked again, up to ``max_retries`` times; then a
      random unissued point;
    - a point observed again (a rerun) is added and told again.
    """

    def _start_study(self, sampler, max_retries: int) -> None:
        import optuna

        self.study = optuna.create_study(direction="maximize", sampler=sampler)
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

    def observe(self, point: Point, reward: Optional[float]) -> None:
        from optuna.trial import TrialState
        score = self.score(reward)
        worst = self._obs.worst_score()
        self._obs.observe(point, score)
        value = score if score is not None else worst
        number = self._trial_of.pop(canonical_key(point), None)     # only RUNNING trials are kept there
        if number is None:                                           # observed again (a rerun)
            trial = make_trial(self.encoding, point, None)
            if trial is None:
                return
            number = self._add(trial)
        if value is None:
            self.study.tell(number, state=TrialState.FAIL)
        else:
            self.study.tell(number, float(value))

    def _add(self, trial) -> int:
        """Add a trial to the study; its number (trial numbers count up from 0 in a study)."""
        self.study.add_trial(trial)
        self._n_trials += 1
        return self._n_trials - 1
