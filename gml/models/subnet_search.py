"""Search for a subnet of a trained supernet with any gml searcher under a cost (FLOPs/params) limit.

The supernet's search space is one flat gml ``SearchSpace`` (``space.flat_space``: one dimension per leaf), so
every registered HPO searcher proposes subnets: ``RandomSearcher``, ``EvolutionSearcher``, ``TPESearcher``,
``SkoptSearcher``, ``NASEvolutionSearcher`` (the one-shot NAS evolution preset) and any searcher added later.
Scoring and costing are callables, so the same search runs with candidates scored in this process or as jobs.

The driver asks the searcher for a batch of candidates within the limit, scores the batch, and tells the
searcher every score; a proposal over the limit is marked issued and observed as failed (reward None, as an HPO
filter drops a configuration) and another is asked for, up to ``max_tries`` in a row. The search ends when
``num_candidates`` are scored or the searcher has nothing left. The result is every scored candidate, the best
one, and the Pareto front (cost ascending, score strictly increasing).

``strategy`` keeps the older spelling: ``'evolution'`` is ``NASEvolutionSearcher`` with a first generation of
``population_size`` random candidates, then ``generations`` of half mutants, half crossovers bred from the
``num_parents`` best (each dimension mutated with ``mutation_prob``); ``'random'`` is ``RandomSearcher``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ..errors import GmlConfigError
from ..search.searchers.base import Searcher
from ..search.searchers.nas_evolution import NASEvolutionSearcher
from ..search.searchers.random_search import RandomSearcher
from .space import Choices, choice_of, flat_space, leaves, point_of

STRATEGIES = ("evolution", "random")


def choice_key(choice: Dict[str, Any]) -> str:
    return json.dumps(choice, sort_keys=True)


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

    def with_references(self, references: Sequence[Candidate], limit: Optional[float]) -> "SearchResult":
        """These candidates plus the ``references`` (scored subnets such as max / min / expected) whose cost is
        within ``limit`` and whose choice is not already among them."""
        seen = {choice_key(c.choice) for c in self.candidates}
        extra = [c for c in references if (limit is None or c.cost <= limit) and choice_key(c.choice) not in seen]
        return SearchResult(list(self.candidates) + extra)

    def pareto_front(self) -> List[Candidate]:
        front: List[Candidate] = []
        for cand in sorted(self.scored, key=lambda c: (c.cost, -c.score)):
            if not front or cand.score > front[-1].score:
                front.append(cand)
        return front


class SubnetSearcher:
    """``cost(choice) -> float`` (cheap; FLOPs or params), ``score_batch(list of choices) -> list of
    (score or None, metrics)`` (expensive; may run in parallel). ``limit``: the largest allowed cost.

    ``searcher``: a gml Searcher built over ``flat_space(space)`` (then ``num_candidates`` scored candidates in
    batches of ``batch_size``; by default a generation of a searcher with ``generation_left()``, such as
    NASEvolutionSearcher, else 10); without it, ``strategy`` builds one (see the module docstring)."""

    def __init__(self, space: Dict[str, Any], cost: Callable[[dict], float],
                 score_batch: Callable[[List[dict]], List[Tuple[Optional[float], Dict[str, float]]]],
                 limit: Optional[float] = None, strategy: str = "evolution", population_size: int = 20,
                 generations: int = 5, num_parents: int = 5, mutation_prob: float = 0.2,
                 num_candidates: int = 50, max_tries: int = 200, seed: int = 0,
                 log: Callable[[str], None] = lambda msg: None, searcher: Optional[Searcher] = None,
                 batch_size: Optional[int] = None):
        if strategy not in STRATEGIES:
            raise GmlConfigError("strategy", f"must be one of {STRATEGIES}, got {strategy!r}")
        if population_size < 2 or num_parents < 1 or generations < 0 or not 0 <= mutation_prob <= 1:
            raise GmlConfigError("evolution", "needs population_size >= 2, num_parents >= 1, generations >= 0 "
                                              f"and 0 <= mutation_prob <= 1, got {population_size}, {num_parents}, "
                                              f"{generations}, {mutation_prob}")
        self.space, self.cost, self.score_batch, self.limit = space, cost, score_batch, limit
        self.flat = flat_space(space)
        self.max_tries, self.log = max_tries, log
        if searcher is not None:
            self.searcher, self.budget, self.batch_size = searcher, num_candidates, batch_size
        elif strategy == "random":
            self.searcher, self.budget = RandomSearcher(self.flat, seed=seed), num_candidates
            self.batch_size = batch_size or num_candidates
        else:
            half = population_size // 2
            self.searcher = NASEvolutionSearcher(self.flat, seed=seed, population_size=population_size,
                                                 generations=generations + 1, num_parents=num_parents,
                                                 num_mutation=half, num_crossover=population_size - half,
                                                 mutate_prob=mutation_prob)
            self.budget, self.batch_size = self.searcher.budget, batch_size
        self.seen: Dict[str, Candidate] = {}

    def _batch_size(self) -> int:
        if self.batch_size:
            return self.batch_size
        generation_left = getattr(self.searcher, "generation_left", None)
        return generation_left() if generation_left is not None else 10

    def _next_batch(self, generation: int) -> List[Candidate]:
        """Up to ``batch_size`` new candidates within the limit (fewer when the searcher runs dry)."""
        batch: List[Candidate] = []
        over = 0
        target = min(self._batch_size(), self.budget - len(self.seen))
        while len(batch) < target:
            point = self.searcher.suggest()
            if point is None:
                break
            self.searcher.mark_issued(point)
            choice = choice_of(self.space, point)
            cost = float(self.cost(choice))
            if self.limit is not None and cost > self.limit:
                self.searcher.observe(point, None)
                over += 1
                if over >= self.max_tries:
                    self.log(f"no new candidate within the limit after {self.max_tries} tries")
                    break
                continue
            over = 0
            batch.append(Candidate(choice, cost, generation=generation))
        return batch

    def run(self) -> SearchResult:
        generation = 0
        while len(self.seen) < self.budget:
            batch = self._next_batch(generation)
            if not batch:
                break
            results = self.score_batch([c.choice for c in batch])
            for cand, (score, metrics) in zip(batch, results):
                cand.score, cand.metrics = score, dict(metrics)
                self.seen[choice_key(cand.choice)] = cand
                self.searcher.observe(point_of(self.space, cand.choice), score)
            self._report(generation)
            generation += 1
        return SearchResult(list(self.seen.values()))

    def _report(self, generation: int) -> None:
        scored = [c for c in self.seen.values() if c.score is not None]
        if scored:
            best = max(scored, key=lambda c: c.score)
            self.log(f"generation {generation}: {len(scored)} scored, best score {best.score:.3f} "
                     f"at cost {best.cost:.4f}")


def build_searcher(space: Dict[str, Any], cfg: Dict[str, Any], path: str = "--searcher") -> Searcher:
    """A registered gml searcher (``cfg``: ``{type: name, keyword: value}``) over the flat space of a supernet
    ``space``; maximising. Errors name ``path``."""
    import gml.search.searchers  # noqa: F401  (registers the searchers)
    from ..registry import SEARCHERS
    return SEARCHERS.build(cfg, path, space=flat_space(space), optimize_mode="maximize")


def searcher_class(name: str, path: str = "--searcher") -> type:
    """The registered gml searcher class ``name`` (or an importable dotted path). Errors name ``path``."""
    import gml.search.searchers  # noqa: F401  (registers the searchers)
    from ..registry import SEARCHERS
    return SEARCHERS.get(name, f"{path}.type")


def reference_choices(algorithm) -> "Dict[str, Any]":
    """The reference subnets of a supernet, name -> choice: the ones its algorithm names for evaluation
    (``eval_subnets``; gml.DMCP: max, min, expected), else ``max`` and ``min`` of its mutator."""
    if hasattr(algorithm, "eval_subnets"):
        return {name: choice for name, choice in algorithm.eval_subnets().items() if choice is not None}
    return {"max": algorithm.mutator.max_choice(), "min": algorithm.mutator.min_choice()}


def leaves_of(space: Any) -> Sequence[Tuple[Tuple, Choices]]:
    """(path, Choices) of every dimension of ``space``."""
    return leaves(space)
