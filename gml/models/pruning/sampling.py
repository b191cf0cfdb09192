"""The sampling strategies of DMCP's weight step (``mutator.arch_sample_type``).

- ``max`` / ``min``: every group at its widest / narrowest;
- ``non_uni_random``: every group's width drawn on its own (non-uniform across layers);
- ``arch_random``: a Markov walk of every group's chain (DMCP's "direct" sampling);
- ``scheduled_random``: ``non_uni_random`` with probability ``SCHEDULED_DECAY ** steps`` (steps since the
  architecture started training), else ``arch_random``: training moves from random widths to the learnt
  distribution.

Before the architecture starts training both chain-based types draw ``non_uni_random`` widths.
"""
from __future__ import annotations

import enum
from typing import List, Optional, Sequence

from ...validation import integer, invalid, one_of

#: Per-iteration decay of scheduled_random's probability of a random (not Markov) structure.
SCHEDULED_DECAY = 0.9999


class SampleType(str, enum.Enum):
    MAX = "max"
    MIN = "min"
    SCHEDULED_RANDOM = "scheduled_random"
    NON_UNI_RANDOM = "non_uni_random"
    ARCH_RANDOM = "arch_random"


def parse_sample_types(types: Sequence[str], num_sample: Optional[int], path: str) -> List[SampleType]:
    """The per-iteration plan: the first ``num_sample`` entries of ``types`` (all when None)."""
    if isinstance(types, str) or not isinstance(types, (list, tuple)) or not types:
        raise invalid(f"{path}.arch_sample_type", types, "a non-empty list")
    valid = [t.value for t in SampleType]
    plan = [SampleType(one_of(f"{path}.arch_sample_type[{i}]", name, valid)) for i, name in enumerate(types)]
    if num_sample is None:
        return plan
    return plan[:integer(f"{path}.num_sample", num_sample, least=1, most=len(plan))]


def scheduled_random_prob(steps: int) -> float:
    return SCHEDULED_DECAY ** max(steps, 0)
