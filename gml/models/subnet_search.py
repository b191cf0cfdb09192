"""Search for a subnet of a trained supernet: evolution or random sampling under a cost (FLOPs/params) limit.

Pure Python over choices (the nested dicts/lists a mutator produces); scoring and costing are callables, so the
same search runs with candidates scored in this process or as gml jobs (``tools/search_subnet.py``).

Evolution (as used for one-shot supernets, e.g. SPOS/OFA): a random initial population within the limit; each
generation keeps the ``num_parents`` best candidates seen so far and breeds ``population_size`` new ones, half by
mutation (each dimension resampled with ``mutation_prob``) and half by crossover (each dimension from one of two
parents); candidates over the limit or already scored are redrawn (``max_tries`` attempts each). The result is
every scored candidate, the best one, and the Pareto front (cost ascending, score strictly increasing).
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..errors import GmlConfigError
from .space import Choices, random_choice

STRATEGIES = ("evolution", "random")


def choice_key(choice: Dict[str, Any]) -> str:
    return json.dumps(choice, sort_keys=True)


def _leaves(space: Any, prefix: Tuple = ()) -> List[Tuple[Tuple, Choices]]:
    if isinstance(space, dict):
        return [leaf for key in space for leaf in _leaves(space[key], prefix + (key,))]
    if isinstance(space, (list, tuple)):
        return [leaf for i, value in enumerate(space) for leaf in _leaves(value, prefix + (i,))]
    return [(prefix, space)]


def _get(choice: Any, path: Tuple) -> Any:
    for key in path:
        choice = choice[key]
    return choice


def _set(choice: Any, path: Tuple, value: Any) -> None:
    for key in path[:-1]:
        choice = choice[key]
    choice[path[-1]] = value


def _copy(choice: Any) -> Any:
    return json.loads(json.dumps(choice))


@dataclass
class Candidate:
    choice: Dict[str, Any]
    cost: float
    score: Optional[float] = None
    metrics: Dict[str, float] = field(default_factory=dict)
    generation: int = 0


@dataclass
class SearchResult:
    candidates: List[Candidate]

    @property
    def scored(self) -> List[Candidate]:
        return [c for c in self.candidates if c.score is not None]

    @property
    def best(self) -> Optional[Candidate]:
        scored = self.scored
        return max(scored, key=lambda c: (c.score, -c.cost)) if scored else None

    def pareto_front(self) -> List[Candidate]:
        front: List[Candidate] = []
        for cand in sorted(self.scored, key=lambda c: (c.cost, -c.score)):
            if not front or cand.score > front[-1].score:
                front.append(cand)
        return front


class SubnetSearcher:
    """``cost(choice) -> float`` (cheap; FLOPs or params), ``score_batch(list of choices) -> list of
    (score or None, metrics)`` (expensive; may run in parallel). ``limit``: the largest allowed cost."""

    def __init__(self, space: Dict[str, Any], cost: Callable[[dict], float],
                 score_batch: Callable[[List[dict]], List[Tuple[Optional[float], Dict[str, float]]]],
                 limit: Optional[float] = None, strategy: str = "evolution", population_size: int = 20,
                 generations: int = 5, num_parents: int = 5, mutation_prob: float = 0.2,
                 num_candidates: int = 50, max_tries: int = 200, seed: int = 0,
                 log: Callable[[str], None] = lambda msg: None):
        if strategy not in STRATEGIES:
            raise GmlConfigError("strategy", f"must be one of {STRATEGIES}, got {strategy!r}")
        if population_size < 2 or num_parents < 1 or generations < 0 or not 0 <= mutation_prob <= 1:
            raise GmlConfigError("evolution", "needs population_size >= 2, num_parents >= 1, generations >= 0 "
                                              f"and 0 <= mutation_prob <= 1, got {population_size}, {num_parents}, "
                                              f"{generations}, {mutation_prob}")
        self.space, self.cost, self.score_batch, self.limit = space, cost, score_batch, limit
        self.strategy, self.population_size, self.generations = strategy, population_size, generations
        self.num_parents, self.mutation_prob, self.num_candidates = num_parents, mutation_prob, num_candidates
        self.max_tries, self.rng, self.log = max_tries, random.Random(seed), log
        self.leaves = _leaves(space)
        self.seen: Dict[str, Candidate] = {}

    # --- drawing candidates within the limit ----------------------------------------------------------------
    def _admit(self, choice: dict, generation: int) -> Optional[Candidate]:
        key = choice_key(choice)
        if key in self.seen:
            return None
        cost = float(self.cost(choice))
        if self.limit is not None and cost > self.limit:
            return None
        return Candidate(choice, cost, generation=generation)

    def _draw(self, make: Callable[[], dict], count: int, generation: int, pending: Dict[str, Candidate]):
        for _ in range(count):
            for _ in range(self.max_tries):
                cand = self._admit(make(), generation)
                if cand is not None and choice_key(cand.choice) not in pending:
                    pending[choice_key(cand.choice)] = cand
                    break
            else:
                self.log(f"no new candidate within the limit after {self.max_tries} tries")
                return

    def _mutate(self, parent: dict) -> dict:
        child = _copy(parent)
        for path, leaf in self.leaves:
            if self.rng.random() < self.mutation_prob:
                _set(child, path, leaf.sample(self.rng))
        return child

    def _crossover(self, a: dict, b: dict) -> dict:
        child = _copy(a)
        for path, _ in self.leaves:
            if self.rng.random() < 0.5:
                _set(child, path, _get(b, path))
        return child

    def _score(self, pending: Dict[str, Candidate]) -> None:
        batch = list(pending.values())
        if not batch:
            return
        results = self.score_batch([c.choice for c in batch])
        for cand, (score, metrics) in zip(batch, results):
            cand.score, cand.metrics = score, dict(metrics)
            self.seen[choice_key(cand.choice)] = cand

    # --- the search -------------------------------------------------------------------------------------------
    def run(self) -> SearchResult:
        pending: Dict[str, Candidate] = {}
        first = self.num_candidates if self.strategy == "random" else self.population_size
        self._draw(lambda: random_choice(self.space, self.rng), first, 0, pending)
        self._score(pending)
        self._report(0)
        if self.strategy == "evolution":
            for generation in range(1, self.generations + 1):
                parents = sorted((c for c in self.seen.values() if c.score is not None),
                                 key=lambda c: c.score, reverse=True)[:self.num_parents]
                if not parents:
                    break
                pending = {}
                half = self.population_size // 2
                self._draw(lambda: self._mutate(self.rng.choice(parents).choice), half, generation, pending)
                self._draw(lambda: self._crossover(self.rng.choice(parents).choice,
                                                   self.rng.choice(parents).choice),
                           self.population_size - half, generation, pending)
                self._score(pending)
                self._report(generation)
        return SearchResult(list(self.seen.values()))

    def _report(self, generation: int) -> None:
        scored = [c for c in self.seen.values() if c.score is not None]
        if scored:
            best = max(scored, key=lambda c: c.score)
            self.log(f"generation {generation}: {len(scored)} scored, best score {best.score:.3f} "
                     f"at cost {best.cost:.4f}")


def leaves_of(space: Any) -> Sequence[Tuple[Tuple, Choices]]:
    """(path, Choices) of every dimension of ``space``."""
    return _leaves(space)
