"""RandomSearcher: independent uniform (log-uniform with ``log``) draws, reproducible under ``seed``."""
from __future__ import annotations

from typing import Optional

from ...registry import SEARCHERS
from ...validation import Keyword, integer
from .base import Point, Searcher
from .observations import random_unissued


@SEARCHERS.register_module()
class RandomSearcher(Searcher):
    """Never proposes a point twice. On a finite space it ends after every point ran; on a continuous one it
    goes on until a stop criterion ends the search. ``max_attempts`` bounds the draws per suggestion (a nearly
    exhausted finite space is then enumerated)."""

    def __init__(self, space, optimize_mode="maximize", seed=None, max_attempts: int = 1000):
        super().__init__(space, optimize_mode, seed)
        self.size = space.size()
        self.max_attempts = integer(Keyword("max_attempts"), max_attempts, least=1)

    def suggest(self) -> Optional[Point]:
        if self.size is not None and self.issued_count >= self.size:
            return None
        return random_unissued(self.space, self.rng, self.is_issued, self.max_attempts)
