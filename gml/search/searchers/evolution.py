"""EvolutionSearcher: a steady-state genetic algorithm over any gml space (no extra dependency).

- *Initial population*: the first ``population_size`` points (default 32) are independent random draws.
- *Children*: the population is the ``population_size`` best scored points seen so far (elitist truncation;
  failed jobs, reward None, never enter it). Each parent is the better of two members drawn at random (binary
  tournament); the child takes every dimension from one parent or the other with equal chance (uniform
  crossover), then each dimension mutates with ``mutate_prob`` (default 0.1): Categorical and Nested (whole
  bundles, so File inner Nested args too) switch to another choice; Int and Real move by a Gaussian step of
  ``mutate_scale`` (default 0.15) of their range, measured on the log scale with ``log``, reflected into the
  bounds and snapped to ``step``.
- *No repeats*: a child that was already issued is thrown away and another is bred, up to ``gen_trial_limit``
  attempts (default 100); then a random unissued point is used (None once a finite space is used up).
- Until two jobs have a score (slow first jobs with parallel slots), random points are issued.
- Everything is drawn from one generator seeded with ``seed``; state is the in-memory history, rebuilt from the
  store by ``restore`` on resume. A suggestion costs O(history) (sorting the scores), far below a millisecond
  per hundred points.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

from ...registry import SEARCHERS
from ...validation import Keyword, integer, number
from ..space.dimensions import canonical_key
from .base import Point
from .observations import ObservingSearcher, random_unissued


@SEARCHERS.register_module()
class EvolutionSearcher(ObservingSearcher):
    """See the module docstring. Keywords: population_size, mutate_prob, gen_trial_limit, mutate_scale, seed."""

    def __init__(self, space, optimize_mode="maximize", seed=None, population_size: int = 32,
                 mutate_prob: float = 0.1, gen_trial_limit: int = 100, mutate_scale: float = 0.15):
        super().__init__(space, optimize_mode, seed)
        self.population_size = integer(Keyword("population_size"), population_size, least=2)
        self.mutate_prob = float(number(Keyword("mutate_prob"), mutate_prob, least=0, most=1))
        self.gen_trial_limit = integer(Keyword("gen_trial_limit"), gen_trial_limit, least=1)
        self.mutate_scale = float(number(Keyword("mutate_scale"), mutate_scale, above=0))

    # -- the Searcher contract -----------------------------------------------------------------------------------
    def suggest(self) -> Optional[Point]:
        if self.exhausted():
            return None
        population = self.population()
        if self.issued_count < self.population_size or len(population) < 2:
            return random_unissued(self.space, self.rng, self.is_issued)
        for _ in range(self.gen_trial_limit):
            first = self._tournament(population)
            second = self._tournament(population, avoid=first)
            child = self.mutate(self.crossover(first, second))
            if not self.is_issued(child):
                return child
        return random_unissued(self.space, self.rng, self.is_issued)

    # -- the genetic operators -----------------------------------------------------------------------------------
    def population(self) -> List[Tuple[Point, float]]:
        """The ``population_size`` best scored points, best first (the latest observation wins a tie)."""
        scored = list(enumerate(self._obs.scored()))
        scored.sort(key=lambda item: (item[1][1], item[0]), reverse=True)
        return [ps for _, ps in scored[: self.population_size]]

    def _tournament(self, population, avoid: Optional[Point] = None) -> Point:
        candidates = population
        if avoid is not None and len(population) > 2:
            key = canonical_key(avoid)
            candidates = [ps for ps in population if canonical_key(ps[0]) != key]
        a, b = self.rng.choice(candidates), self.rng.choice(candidates)
        return (a if a[1] >= b[1] else b)[0]

    def crossover(self, first: Point, second: Point) -> Point:
        return {d.key: (first if self.rng.random() < 0.5 else second)[d.key] for d in self.space.dimensions}

    def mutate(self, point: Point) -> Point:
        child = dict(point)
        for d in self.space.dimensions:
            if self.rng.random() < self.mutate_prob:
                child[d.key] = d.mutate(child[d.key], self.rng, self.mutate_scale)
        return {d.key: d.copy(child[d.key]) for d in self.space.dimensions}
