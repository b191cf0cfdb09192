"""``MarkovChainSearcher``: a gml searcher that draws every dimension of a finite, ordered search space by a walk
up its grid, the way DMCP samples a channel group's width from its learnt Markov chain.

For a dimension with grid values ``v_0 < v_1 < ... < v_K`` (a DMCP group's bucket widths) and transition
probabilities ``p_1..p_K`` (``transitions[key]``), a walk starts at ``v_0`` and moves to ``v_k`` with probability
``p_k`` as long as it moved to ``v_{k-1}``; the first refusal ends it. Dimensions are walked independently. So the
searcher proposes structures with the probability the trained architecture parameters give them: most often near
the expected structure, rarely far from it. It never proposes a point twice; when ``max_attempts`` walks in a row
give only points already issued, it has nothing left (``suggest`` returns None) and the search ends. Rewards do not
change the chains (they are the supernet's, fixed after training).

``tools/search_subnet.py --searcher MarkovChainSearcher`` on a DMCP supernet fills ``transitions`` from the
supernet (``DMCPMutator.markov_transitions``); they may also be given (``transitions={key: [p_1, ...]}``), which
makes the searcher usable on any space of Categorical / Int dimensions.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from ...registry import SEARCHERS
from ...search.searchers.base import Point, Searcher
from ...validation import Keyword, config_error, integer, invalid


def check_transitions(space, transitions: Any, path: str = "transitions") -> Dict[str, List[float]]:
    """``transitions`` checked against the flat ``space``: one list of ``len(grid) - 1`` probabilities in [0, 1]
    for every dimension (a fixed dimension: an empty list, or left out), no unknown keys. Errors name ``path``
    (a ``Keyword`` path stays one, so the registry puts the searcher's key path before it)."""
    sub = lambda rest: type(path)(f"{path}{rest}")  # noqa: E731
    if not isinstance(transitions, Mapping):
        raise invalid(path, transitions, "a mapping of dimension key -> list of transition probabilities")
    unknown = sorted(set(transitions) - set(space.keys))
    if unknown:
        raise config_error(sub(f".{unknown[0]}"), f"not a dimension of the search space; valid: "
                                                     f"{', '.join(space.keys)}")
    checked: Dict[str, List[float]] = {}
    for dim in space.dimensions:
        steps = len(dim.grid()) - 1
        probs = transitions.get(dim.key, [] if steps == 0 else None)
        where = sub(f".{dim.key}")
        if not isinstance(probs, Sequence) or isinstance(probs, str) or len(probs) != steps:
            raise invalid(where, probs, f"a list of {steps} transition probabilities (one per step up its grid)")
        values = []
        for i, p in enumerate(probs):
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
                raise invalid(type(path)(f"{where}[{i}]"), p, "a probability in [0, 1]")
            values.append(float(p))
        checked[dim.key] = values
    return checked


@SEARCHERS.register_module()
class MarkovChainSearcher(Searcher):
    """See the module docstring. ``space``: a finite flat space (Categorical / Int / gridded Real dimensions)."""

    def __init__(self, space, optimize_mode: str = "maximize", seed: Optional[int] = None,
                 transitions: Optional[Mapping[str, Sequence[float]]] = None, max_attempts: int = 1000):
        super().__init__(space, optimize_mode, seed)
        if transitions is None:
            raise config_error(Keyword("transitions"), "MarkovChainSearcher needs the transition probabilities "
                                 "of every dimension (tools/search_subnet.py fills them from a DMCP supernet)")
        self.grids = {dim.key: sorted(set(dim.grid())) for dim in space.dimensions}
        self.transitions = check_transitions(space, transitions, Keyword("transitions"))
        self.max_attempts = integer(Keyword("max_attempts"), max_attempts, least=1)

    def walk(self) -> Point:
        """One point drawn by the chains."""
        point = {}
        for key, grid in self.grids.items():
            index = 0
            for p in self.transitions[key]:
                if self.rng.random() >= p:
                    break
                index += 1
            point[key] = grid[index]
        return point

    def suggest(self) -> Optional[Point]:
        for _ in range(self.max_attempts):
            point = self.walk()
            if not self.is_issued(point):
                return point
        return None
