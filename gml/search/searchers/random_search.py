"""RandomSearcher: independent uniform (log-uniform with ``log``) draws, reproducible under ``seed``."""
from __future__ import annotations

import itertools
from typing import Optional

from ...registry import SEARCHERS
from .base import Point, Searcher


@SEARCHERS.register_module()
class RandomSearcher(Searcher):
    """Never proposes a point twice. On a finite space it ends after every point ran; on a continuous one it
    goes on until a stop criterion ends the search. ``max_attempts`` bounds the draws per suggestion."""

    def __init__(self, space, optimize_mode="maximize", seed=None, max_attempts: int = 1000):
        super().__init__(space, optimize_mode, seed)
        self.size = space.size()
        self.max_attempts = max_attempts

    def suggest(self) -> Optional[Point]:
        if self.size is not None and self.issued_count >= self.size:
            return None
        for _ in range(self.max_attempts):
            point = self.space.sample(self.rng)
            if not self.is_issued(point):
                return point
        if self.size is not None:
            # Nearly exhausted finite space: pick uniformly among the points not yet run.
            keys = self.space.keys
            left = [dict(zip(keys, values)) for values in itertools.product(*(d.grid() for d in self.space.dimensions))]
            left = [p for p in left if not self.is_issued(p)]
            return self.rng.choice(left) if left else None
        return None
