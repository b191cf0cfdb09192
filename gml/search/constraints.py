"""Constraints on reported scalars: ``searcher.constraints: ['flops <= 600', 'latency_ms < 20']``.

Each constraint is ``SCALAR OP NUMBER`` with OP one of ``<=``, ``<``, ``>=``, ``>``, parsed with a regular
expression (never evaluated as code). A job is judged on the *last* value it reported of each constrained scalar;
a scalar it never reported (or reported as NaN) violates its constraint.

A constraint's *violation* is 0 when it holds and the distance to its bound when it does not (at least
``MIN_VIOLATION``, so that a value equal to a strict bound counts): the convention of Optuna's constrained
samplers (a value > 0 is infeasible). A job's violation is the sum over its constraints; the controller records it
on the job (``Job.violation``), and an infeasible job (violation > 0) is never the task's best.
"""
from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

from ..errors import GmlConfigError
from ..validation import invalid

MIN_VIOLATION = 1e-12
_SHAPE = re.compile(r"^\s*(?P<scalar>[^<>=]*?)\s*(?P<op><=|>=|<|>)\s*(?P<bound>[^<>=]+?)\s*$")
EXAMPLE = "'SCALAR OP NUMBER' with OP one of <=, <, >=, > (e.g. 'flops <= 600')"


class Comparison(str, enum.Enum):
    AT_MOST = "<="
    BELOW = "<"
    AT_LEAST = ">="
    ABOVE = ">"


@dataclass(frozen=True)
class Constraint:
    """``scalar op bound``, e.g. ``Constraint('flops', Comparison.AT_MOST, 600.0)``."""

    scalar: str
    op: Comparison
    bound: float

    def violation(self, value: Optional[float]) -> float:
        """0 when ``value`` satisfies the constraint, else how far it is on the wrong side (> 0); infinite for a
        missing or NaN value."""
        if value is None or math.isnan(value):
            return math.inf
        if self.op in (Comparison.AT_MOST, Comparison.BELOW):
            excess = value - self.bound
            holds = excess <= 0 if self.op == Comparison.AT_MOST else excess < 0
        else:
            excess = self.bound - value
            holds = excess <= 0 if self.op == Comparison.AT_LEAST else excess < 0
        return 0.0 if holds else max(excess, MIN_VIOLATION)

    def __str__(self) -> str:
        return f"{self.scalar} {self.op.value} {self.bound:g}"


def parse_constraint(text: Any, path: str) -> Constraint:
    """One constraint from its text; GmlConfigError at ``path`` for anything but ``SCALAR OP NUMBER``."""
    match = _SHAPE.match(text) if isinstance(text, str) else None
    if match is None or not match["scalar"]:
        raise invalid(path, text, EXAMPLE)
    try:
        bound = float(match["bound"])
    except ValueError:
        raise invalid(path, text, f"{EXAMPLE}; {match['bound']!r} is not a number") from None
    if not math.isfinite(bound):
        raise invalid(path, text, f"{EXAMPLE} with a finite bound")
    return Constraint(match["scalar"], Comparison(match["op"]), bound)


def parse_constraints(value: Any, path: str = "searcher.constraints") -> List[Constraint]:
    """``searcher.constraints``: a list of constraint texts (a single text is taken as a list of one)."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        raise invalid(path, value, f"a list of constraints, each {EXAMPLE}")
    parsed = [parse_constraint(item, f"{path}[{i}]" if items is value else path) for i, item in enumerate(items)]
    for i, constraint in enumerate(parsed):
        if constraint in parsed[:i]:
            raise GmlConfigError(f"{path}[{i}]", f"repeats {path}[{parsed.index(constraint)}] ({constraint})")
    return parsed


def violations(constraints: Sequence[Constraint], last_values: Dict[str, Optional[float]]) -> List[float]:
    """Each constraint's violation, given each scalar's last reported value."""
    return [c.violation(last_values.get(c.scalar)) for c in constraints]


def total_violation(values: Sequence[float]) -> float:
    """A job's violation: the sum of its constraints' (0: feasible)."""
    return float(sum(values))
