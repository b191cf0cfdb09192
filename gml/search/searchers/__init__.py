"""Searchers, one module each, registered in ``gml.registry.SEARCHERS`` on import.

SkoptSearcher and TPESearcher import scikit-optimize / optuna only when built (the ``searchers`` extra)."""
from .base import Point, Searcher
from .batch import BatchSearcher
from .evolution import EvolutionSearcher
from .grid import GridSearcher
from .nsga2 import NSGA2Searcher
from .random_search import RandomSearcher
from .skopt_searcher import SkoptSearcher
from .tpe import TPESearcher

__all__ = ["Point", "Searcher", "GridSearcher", "BatchSearcher", "RandomSearcher", "SkoptSearcher",
           "EvolutionSearcher", "TPESearcher", "NSGA2Searcher"]
