"""Objectives: ``reward_attribute: [acc, flops]`` with ``optimize_mode: [maximize, minimize]``.

A search has one objective (the usual ``reward_attribute: acc``) or several. The *first* objective is the job's
``reward`` everywhere a single number is needed (the store, the progress line, "best", ``max_reward``, the
assessors); a multi-objective searcher (``multi_objective = True``, e.g. NSGA2Searcher) is told every objective's
value, and ``search-ctl show-scalar --pareto`` prints the jobs no other job dominates.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..errors import GmlConfigError
from ..validation import invalid, one_of

MODES = ("maximize", "minimize")


@dataclass(frozen=True)
class Objective:
    name: str           # the reported scalar
    mode: str           # maximize | minimize

    def better_or_equal(self, a: float, b: float) -> bool:
        return a >= b if self.mode == "maximize" else a <= b


def parse_objectives(reward_attribute: Any, optimize_mode: Any) -> List[Objective]:
    """The objectives from ``searcher.reward_attribute`` (a scalar name or a list of them) and
    ``searcher.optimize_mode`` (one mode for all, or a list as long as the names)."""
    names = reward_attribute if isinstance(reward_attribute, list) else [reward_attribute]
    path = "searcher.reward_attribute"
    if not names:
        raise invalid(path, reward_attribute, "a scalar name or a non-empty list of them")
    for i, name in enumerate(names):
        where = f"{path}[{i}]" if isinstance(reward_attribute, list) else path
        if not isinstance(name, str) or not name:
            raise invalid(where, name, "a scalar name")
        if name in names[:i]:
            raise GmlConfigError(where, f"{name!r} is listed twice")
    if isinstance(optimize_mode, list):
        if len(optimize_mode) != len(names):
            raise GmlConfigError("searcher.optimize_mode", f"gives {len(optimize_mode)} modes for {len(names)} "
                                                           f"objectives in searcher.reward_attribute")
        modes = [one_of(f"searcher.optimize_mode[{i}]", m, MODES) for i, m in enumerate(optimize_mode)]
    else:
        modes = [one_of("searcher.optimize_mode", optimize_mode, MODES)] * len(names)
    return [Objective(n, m) for n, m in zip(names, modes)]


def dominates(a: Sequence[float], b: Sequence[float], objectives: Sequence[Objective]) -> bool:
    """``a`` is at least as good as ``b`` in every objective and better in one."""
    return (all(o.better_or_equal(x, y) for o, x, y in zip(objectives, a, b))
            and any(x != y for x, y in zip(a, b)))


def pareto_front(entries: Sequence[Tuple[Any, Sequence[float]]],
                 objectives: Sequence[Objective]) -> List[Tuple[Any, Sequence[float]]]:
    """The ``(key, values)`` entries that no other entry dominates, in the given order."""
    return [(key, values) for key, values in entries
            if not any(dominates(other, values, objectives) for _, other in entries)]


def objective_values(curves: Dict[str, List[Tuple[int, Optional[float]]]], objectives: Sequence[Objective],
                     reward_from: str) -> Optional[List[float]]:
    """Each objective's value of a job from its scalar curves (``reward_from``: last or best value, as for the
    reward); None when one is missing."""
    from .ingest.report_files import reward_of
    values = [reward_of(curves.get(o.name, []), reward_from, o.mode) for o in objectives]
    return None if any(v is None for v in values) else [float(v) for v in values]
