"""The Searcher contract: propose configurations (points of a SearchSpace), learn from their rewards.

The controller is a searcher's only caller, from one thread:

- ``suggest()`` returns the next point, or None when the searcher has nothing to propose now. The controller
  asks again after the next job ends; when nothing runs and the answer is still None, the search is over
  (exhausted). So a searcher may return None while it waits for results (e.g. the rest of a generation);
- ``mark_issued(point)`` is called for every point the controller takes from ``suggest()`` (launched, filtered
  out, or rejected as a duplicate), and on resume for every point already in the store, so a searcher never has
  to propose a configuration twice; the controller also refuses duplicates itself;
- ``observe(point, reward)`` reports a finished job: ``reward`` is the raw reward attribute (optimise it in
  ``optimize_mode``), or None when the job failed, was killed, reported nothing, or was dropped by a filter
  criterion (every issued point is observed exactly once, unless it is still running).

With ``searcher.constraints``, a searcher whose ``uses_constraints`` is True hears each finished job's constraint
violations through ``constraints_observed(point, violations)`` just before its ``observe`` (also on resume, before
``restore``); any other searcher is told an infeasible job's reward as None, so it counts the point as bad.

On resume the controller calls ``restore(history)`` once, before the first ``suggest()``, replaying the store in
job order; by default that is ``mark_issued`` for every point and ``observe`` for every finished one. Searchers
keep no state of their own on disk: the store is the truth.
"""
from __future__ import annotations

import abc
import math
import random
from typing import Any, Dict, Iterable, Optional, Sequence, Tuple

from ...validation import Keyword, integer
from ..space.dimensions import SearchSpace, canonical_key

Point = Dict[str, Any]


class Searcher(abc.ABC):
    #: whether this searcher models ``searcher.constraints`` itself (see ``constraints_observed``)
    uses_constraints = False
    #: whether this searcher optimises several objectives (``reward_attribute: [acc, flops]``): it is built with
    #: ``directions`` (one optimize_mode per objective) and ``observe`` gets a list of values, one per objective;
    #: the other searchers refuse a list of objectives
    multi_objective = False

    def __init__(self, space: SearchSpace, optimize_mode: str = "maximize", seed: Optional[int] = None):
        if optimize_mode not in ("maximize", "minimize"):
            raise ValueError(f"optimize_mode must be 'maximize' or 'minimize', got {optimize_mode!r}")
        self.space = space
        self.optimize_mode = optimize_mode
        self.seed = integer(Keyword("seed"), seed, optional=True)
        self.rng = random.Random(seed)
        self._issued: set = set()

    @abc.abstractmethod
    def suggest(self) -> Optional[Point]:
        """The next configuration to run, or None when there is nothing to propose now (see the module doc)."""

    def observe(self, point: Point, reward: Optional[float]) -> None:
        """Learn from a finished job (reward None = failed/killed/no value). Stateless searchers ignore it."""

    def mark_issued(self, point: Point) -> None:
        self._issued.add(canonical_key(point))

    def constraints_observed(self, point: Point, violations: Sequence[float]) -> None:
        """The violation of each of ``searcher.constraints`` by a finished job (0: it holds, > 0: broken; in the
        config's order), just before ``observe`` of the same point. Called only when ``uses_constraints``."""

    def is_issued(self, point: Point) -> bool:
        return canonical_key(point) in self._issued

    @property
    def issued_count(self) -> int:
        return len(self._issued)

    def restore(self, history: Iterable[Tuple[Point, Optional[float], bool]]) -> None:
        """Replay the store: ``(point, reward, finished)`` per job, in job order."""
        for point, reward, finished in history:
            self.mark_issued(point)
            if finished:
                self.observe(point, reward)

    def score(self, reward: Optional[float]) -> Optional[float]:
        """``reward`` turned so that larger is better; None for a missing or NaN reward."""
        if reward is None or (isinstance(reward, float) and math.isnan(reward)):
            return None
        return float(reward) if self.optimize_mode == "maximize" else -float(reward)
