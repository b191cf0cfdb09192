"""What a model-based searcher knows about its points: issued, pending, observed (scored or failed).

Shared by SkoptSearcher, EvolutionSearcher and TPESearcher, which keep it through ``ObservingSearcher``. In
memory only; ``Searcher.restore`` rebuilds it from the store. Scores are larger-is-better (``Searcher.score``); a
failed job (reward None) is kept with score None.

- a point is *pending* from ``issue`` until it is observed: a running job, or one a filter criterion dropped (the
  controller never observes those, so they stay pending; model-based searchers treat them like running ones);
- observing a point again replaces its earlier observation (the controller reruns ERROR jobs on resume).
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

from ..space.dimensions import canonical_key
from .base import Point, Searcher


class Observations:
    def __init__(self) -> None:
        self._pending: Dict[str, Point] = {}            # insertion order = issue order
        self._observed: Dict[str, Tuple[Point, Optional[float]]] = {}   # insertion order = first observation
        self._count = 0

    def issue(self, point: Point) -> None:
        key = canonical_key(point)
        if key not in self._observed:
            self._pending.setdefault(key, point)

    def observe(self, point: Point, score: Optional[float]) -> None:
        key = canonical_key(point)
        self._pending.pop(key, None)
        self._observed.pop(key, None)
        self._observed[key] = (point, score)
        self._count += 1

    @property
    def n_observed(self) -> int:
        return len(self._observed)

    @property
    def version(self) -> int:
        """Grows with every observation (lets callers cache what they derive from the history)."""
        return self._count

    def observed(self) -> List[Tuple[Point, Optional[float]]]:
        """Every observed point with its score (None = failed), least recently observed first."""
        return list(self._observed.values())

    def scored(self) -> List[Tuple[Point, float]]:
        return [(p, s) for p, s in self._observed.values() if s is not None]

    def failed(self) -> List[Point]:
        return [p for p, s in self._observed.values() if s is None]

    def pending(self, limit: Optional[int] = None) -> List[Point]:
        """Issued, not yet observed points, oldest first; with ``limit`` only the ``limit`` most recent."""
        points = list(self._pending.values())
        return points if limit is None else points[max(0, len(points) - limit):]

    def window(self, limit: Optional[int]) -> List[Tuple[Point, Optional[float]]]:
        """What a model sees of the history: every observation while there are at most ``limit`` (None: no
        limit); beyond that the ``limit // 2`` best scored ones plus the most recent ones up to ``limit``, in
        observation order. Bounds the cost of a model that is superlinear in its points (a GP is cubic)."""
        rows = self.observed()
        if limit is None or len(rows) <= limit:
            return rows
        ranked = sorted((i for i, (_, s) in enumerate(rows) if s is not None), key=lambda i: rows[i][1], reverse=True)
        keep = set(ranked[: limit // 2])
        for i in range(len(rows) - 1, -1, -1):
            if len(keep) >= limit:
                break
            keep.add(i)
        return [rows[i] for i in sorted(keep)]

    def best(self) -> Optional[Tuple[Point, float]]:
        scored = self.scored()
        return max(scored, key=lambda ps: ps[1]) if scored else None

    def worst_score(self) -> Optional[float]:
        scored = self.scored()
        return min(s for _, s in scored) if scored else None


class ObservingSearcher(Searcher):
    """A Searcher that keeps its history in ``self._obs``: ``mark_issued`` records the point as pending there,
    ``observe`` records it with its score (``Searcher.score``: larger is better, None = failed). ``self.size`` is
    the number of points of the space (None: continuous); ``exhausted()`` is True once all of them were issued.
    Subclasses that extend ``mark_issued`` or ``observe`` call this class's version (or record the point in
    ``self._obs`` themselves)."""

    def __init__(self, space, optimize_mode: str = "maximize", seed: Optional[int] = None):
        super().__init__(space, optimize_mode, seed)
        self.size = space.size()
        self._obs = Observations()

    def mark_issued(self, point: Point) -> None:
        super().mark_issued(point)
        self._obs.issue(point)

    def observe(self, point: Point, reward: Optional[float]) -> None:
        self._obs.observe(point, self.score(reward))

    def exhausted(self) -> bool:
        """True when the space is finite and every one of its points was issued: nothing is left to suggest."""
        return self.size is not None and self.issued_count >= self.size


def random_unissued(space, rng, is_issued, attempts: int = 1000) -> Optional[Point]:
    """A uniformly drawn point not yet issued, or None when every point of a finite space was issued.

    Draws up to ``attempts`` times; a finite space that is nearly used up is then enumerated."""
    for _ in range(attempts):
        point = space.sample(rng)
        if not is_issued(point):
            return point
    if space.size() is None:
        return None
    import itertools
    left = [dict(zip(space.keys, values)) for values in itertools.product(*(d.grid() for d in space.dimensions))]
    left = [p for p in left if not is_issued(p)]
    return rng.choice(left) if left else None
