"""Search spaces: the dimension types (``dimensions``), parsing ``search_args`` into them (``parse``) and the
encodings model-based searchers use (``encoding``)."""
from .dimensions import Categorical, Dimension, FileArg, Int, Nested, Real, SearchSpace, canonical_key

__all__ = ["Categorical", "Dimension", "FileArg", "Int", "Nested", "Real", "SearchSpace", "canonical_key"]
