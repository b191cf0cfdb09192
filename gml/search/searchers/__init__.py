"""Searchers, one module each, registered in ``gml.registry.SEARCHERS`` on import.

SkoptSearcher, TPESearcher, CMAESSearcher and NSGA2Searcher import scikit-optimize / optuna only when built (the
``searchers`` extra); GPSearcher also needs torch (the ``gp`` extra). TPESearcher and NSGA2Searcher take several
objectives (``multi_objective``)."""
from .base import Point, Searcher
from .batch import BatchSearcher
from .cma_es import CMAESSearcher
from .evolution import EvolutionSearcher
from .gp import GPSearcher
from .grid import GridSearcher
from .nas_evolution import NASEvolutionSearcher
from .nsga2 import NSGA2Searcher
from .random_search import RandomSearcher
from .skopt_searcher import SkoptSearcher
from .tpe import TPESearcher

__all__ = ["Point", "Searcher", "GridSearcher", "BatchSearcher", "RandomSearcher", "SkoptSearcher",
           "EvolutionSearcher", "NASEvolutionSearcher", "TPESearcher", "GPSearcher", "CMAESSearcher", "NSGA2Searcher"]
