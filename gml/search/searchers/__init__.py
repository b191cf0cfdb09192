"""Searchers, one module each, registered in ``gml.registry.SEARCHERS`` on import."""
from .base import Point, Searcher
from .batch import BatchSearcher
from .grid import GridSearcher
from .random_search import RandomSearcher

__all__ = ["Point", "Searcher", "GridSearcher", "BatchSearcher", "RandomSearcher"]
