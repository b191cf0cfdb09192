"""Search spaces: the dimension types (``dimensions``), parsing ``search_args`` into them (``parse``) and the
encodings model-based searchers use (``encoding``: ``OptunaEncoding``, ``SkoptEncoding``)."""
from .dimensions import (Categorical, ChoiceDimension, Dimension, Domain, DomainKind, FileArg, Int, Nested,
                         RangeDimension, Real, SearchSpace, canonical_key)
from .encoding import Encoding, OptunaEncoding, SkoptEncoding

__all__ = ["Categorical", "ChoiceDimension", "Dimension", "Domain", "DomainKind", "Encoding", "FileArg", "Int",
           "Nested", "OptunaEncoding", "RangeDimension", "Real", "SearchSpace", "SkoptEncoding", "canonical_key"]
