"""BatchSearcher: an explicit list of configurations, run in the order they are written.

Only Nested args of plain values are allowed. With several Nested args, the i-th bundles of each form the i-th
configuration (they must have the same length).
"""
from __future__ import annotations

from typing import Optional

from ...errors import GmlConfigError
from ...registry import SEARCHERS
from ..space.dimensions import Nested
from .base import Point, Searcher

_PLAIN = (str, int, float, bool, type(None))


@SEARCHERS.register_module()
class BatchSearcher(Searcher):
    def __init__(self, space, optimize_mode="maximize", seed=None):
        super().__init__(space, optimize_mode, seed)
        lengths = set()
        for dim in space.dimensions:
            where = space.sources.get(dim.key, dim.key)
            if not isinstance(dim, Nested):
                raise GmlConfigError(where, "BatchSearcher takes only Nested args (one bundle per configuration)")
            for j, bundle in enumerate(dim.choices):
                for key, value in bundle.items():
                    if not isinstance(value, _PLAIN):
                        raise GmlConfigError(f"{where}.data[{j}].{key}",
                                             f"BatchSearcher takes plain values (str, number, bool), got {value!r}")
            lengths.add(len(dim.choices))
        if len(lengths) > 1:
            raise GmlConfigError("task.search_args", f"BatchSearcher zips Nested args, which need the same number "
                                                     f"of bundles; got {sorted(lengths)}")
        count = lengths.pop() if lengths else 0
        self._points = [{d.key: dict(d.choices[i]) for d in space.dimensions} for i in range(count)]
        self._next = 0

    def suggest(self) -> Optional[Point]:
        while self._next < len(self._points):
            point = self._points[self._next]
            self._next += 1
            if not self.is_issued(point):
                return point
        return None
