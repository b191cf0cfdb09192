"""NASEvolutionSearcher: the generational evolution of one-shot NAS subnet search, over any gml space.

Its defaults are the usual one-shot NAS preset (as in SPOS / MMRazor's evolution search loop): a first generation
of ``population_size`` (50) random points, then ``generations`` - 1 (19) generations of ``num_mutation`` (25)
mutants and ``num_crossover`` (25) crossovers, bred from the ``num_parents`` (10) best points scored so far:

- a mutant copies one parent drawn at random and mutates each dimension with ``mutate_prob`` (0.1), with the
  shared ``EvolutionSearcher.mutate`` (another choice; a Gaussian step of ``mutate_scale`` of the range for Int
  and Real);
- a crossover takes each dimension from one of two parents drawn at random (``EvolutionSearcher.crossover``).

A point's place in the schedule is the number of *useful* points issued before it: issued ones minus those
observed as failed (reward None: a failed job, or a candidate a filter dropped, e.g. one over a FLOPs limit), so a
generation holds ``num_mutation + num_crossover`` candidates that ran. Children are bred from what is scored when
they are suggested: issued a generation at a time (the subnet search tool does), the search is generational;
under a controller with parallel slots it is steady-state. After the last generation ``suggest`` returns None.
A child already issued is bred again (``gen_trial_limit`` times, then a random unissued point).
"""
from __future__ import annotations

from typing import Optional

from ...registry import SEARCHERS
from ...validation import Keyword, config_error, integer
from .base import Point
from .evolution import EvolutionSearcher
from .observations import random_unissued


@SEARCHERS.register_module()
class NASEvolutionSearcher(EvolutionSearcher):
    """See the module docstring. Keywords: population_size, generations, num_parents, num_mutation,
    num_crossover, mutate_prob, mutate_scale, gen_trial_limit, seed."""

    def __init__(self, space, optimize_mode="maximize", seed=None, population_size: int = 50,
                 generations: int = 20, num_parents: int = 10, num_mutation: int = 25, num_crossover: int = 25,
                 mutate_prob: float = 0.1, gen_trial_limit: int = 100, mutate_scale: float = 0.15):
        # EvolutionSearcher's population (the parents) is set to num_parents below, once checked
        super().__init__(space, optimize_mode, seed, population_size=2, mutate_prob=mutate_prob,
                         gen_trial_limit=gen_trial_limit, mutate_scale=mutate_scale)
        self.num_parents = integer(Keyword("num_parents"), num_parents, least=1)
        self.first_size = integer(Keyword("population_size"), population_size, least=1)
        self.generations = integer(Keyword("generations"), generations, least=1)
        self.num_mutation = integer(Keyword("num_mutation"), num_mutation, least=0)
        self.num_crossover = integer(Keyword("num_crossover"), num_crossover, least=0)
        if self.generations > 1 and self.num_mutation + self.num_crossover == 0:
            raise config_error(Keyword("num_mutation"),
                               "num_mutation + num_crossover must be >= 1 when generations > 1")
        self.population_size = self.num_parents

    @property
    def budget(self) -> int:
        """Useful points over all generations."""
        return self.first_size + (self.generations - 1) * (self.num_mutation + self.num_crossover)

    def generation_left(self) -> int:
        """Useful points still to issue in the current generation (the subnet search tool's batch size)."""
        index = self.useful_count()
        if index < self.first_size:
            return self.first_size - index
        size = self.num_mutation + self.num_crossover
        return size - (index - self.first_size) % size

    def useful_count(self) -> int:
        return self.issued_count - len(self._obs.failed())

    def suggest(self) -> Optional[Point]:
        index = self.useful_count()
        if index >= self.budget or self.exhausted():
            return None
        parents = [p for p, _ in self.population()]
        if index < self.first_size or not parents:
            return random_unissued(self.space, self.rng, self.is_issued)
        mutant = (index - self.first_size) % (self.num_mutation + self.num_crossover) < self.num_mutation
        for _ in range(self.gen_trial_limit):
            if mutant:
                child = self.mutate(self.rng.choice(parents))
            else:
                child = self.crossover(self.rng.choice(parents), self.rng.choice(parents))
            if not self.is_issued(child):
                return child
        return random_unissued(self.space, self.rng, self.is_issued)

