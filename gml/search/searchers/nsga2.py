"""NSGA2Searcher: Optuna's NSGA-II sampler through ask/tell, for one or several objectives (the ``searchers`` extra).

``reward_attribute: [acc, flops]`` with ``optimize_mode: [maximize, minimize]``: the controller builds this searcher
with ``directions`` (one mode per objective) and tells it every objective's value of each finished job
(``observe(point, [acc, flops])``; None when the job failed, was killed, missed a value, or broke constraints of a
searcher without constraint support, which this one is not). With one objective it is a plain genetic algorithm.

The study bookkeeping is ``StudySearcher``'s (dimensions map onto Optuna distributions through ``OptunaEncoding``;
every issued point is a RUNNING trial until observed; an already issued proposal is told FAIL and NSGA-II asked
again, up to ``max_retries`` times, then a random unissued point), except that a failed job is always a FAIL
trial, which NSGA-II leaves out of its populations. Constraints (``searcher.constraints``): violations go to the
sampler's ``constraints_func`` (constrained domination: feasible trials dominate infeasible ones).

Keywords: ``seed``, ``population_size`` (50), ``mutation_prob`` (None: 1 / number of parameters),
``crossover_prob`` (0.9), ``swapping_prob`` (0.5), ``max_retries`` (10).
"""
from __future__ import annotations

import warnings
from typing import List, Optional

from ...registry import SEARCHERS
from ...validation import Keyword, config_error, integer, number
from .optuna_trials import StudySearcher, import_optuna


@SEARCHERS.register_module()
class NSGA2Searcher(StudySearcher):
    """NSGA-II over any gml space, one or several objectives (see the module docstring)."""

    multi_objective = True
    uses_constraints = True
    fail_as_worst = False

    def __init__(self, space, optimize_mode="maximize", seed=None, directions: Optional[List[str]] = None,
                 population_size: int = 50, mutation_prob: Optional[float] = None, crossover_prob: float = 0.9,
                 swapping_prob: float = 0.5, max_retries: int = 10):
        super().__init__(space, optimize_mode, seed, directions)
        optuna = import_optuna("NSGA2Searcher")
        integer(Keyword("population_size"), population_size, least=2)
        number(Keyword("mutation_prob"), mutation_prob, least=0, most=1, optional=True)
        number(Keyword("crossover_prob"), crossover_prob, least=0, most=1)
        number(Keyword("swapping_prob"), swapping_prob, least=0, most=1)
        integer(Keyword("max_retries"), max_retries, least=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")    # experimental / deprecated argument warnings
            try:
                sampler = optuna.samplers.NSGAIISampler(
                    seed=seed, population_size=population_size, mutation_prob=mutation_prob,
                    crossover_prob=crossover_prob, swapping_prob=swapping_prob,
                    constraints_func=self.trial_constraints)
            except (TypeError, ValueError) as err:
                raise config_error(Keyword(""), f"NSGA2Searcher: optuna's NSGAIISampler refused the keywords: "
                                                f"{err}") from None
        self._start_study(sampler, max_retries)
