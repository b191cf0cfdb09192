"""GridSearcher: every point of the Cartesian product of all args, in order (the last arg varies fastest)."""
from __future__ import annotations

import itertools
from typing import Optional

from ...registry import SEARCHERS
from .base import Point, Searcher


@SEARCHERS.register_module()
class GridSearcher(Searcher):
    """Runs the whole grid once. A Real arg needs a ``step`` to lie on a grid (a config error otherwise)."""

    def __init__(self, space, optimize_mode="maximize", seed=None):
        super().__init__(space, optimize_mode, seed)
        from ...errors import GmlConfigError
        try:
            self._axes = [d.grid() for d in space.dimensions]
        except GmlConfigError as err:
            raise GmlConfigError(space.sources.get(err.path, err.path),
                                 f"GridSearcher: {err.message}") from None
        self._product = itertools.product(*self._axes)

    def suggest(self) -> Optional[Point]:
        for values in self._product:
            point = dict(zip(self.space.keys, values))
            if not self.is_issued(point):
                return point
        return None
