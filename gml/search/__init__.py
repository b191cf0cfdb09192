"""The HPO side of gml: search spaces, searchers, assessors, criteria, the controller and its store.

Importing it needs no torch or mmcv (the controller runs on login nodes)."""
from . import assessors, searchers
from .config.search_config import SearchConfig, load_search_config, parse_search_config
from .space.dimensions import Categorical, Int, Nested, Real, SearchSpace

__all__ = ["assessors", "searchers", "SearchConfig", "load_search_config", "parse_search_config", "Categorical",
           "Int", "Nested", "Real", "SearchSpace"]
