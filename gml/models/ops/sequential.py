"""``DynamicSequential``: runs the first ``active_depth`` of its blocks (BigNAS/OFA keep the first blocks of a
stage when a shallower stage is chosen); ``DropPath``: stochastic depth on a residual branch."""
from __future__ import annotations

from itertools import islice
from typing import Optional

import torch
from torch import nn

from .base import DynamicOp, set_plain


class DynamicSequential(nn.Sequential, DynamicOp):
    def __init__(self, *blocks: nn.Module):
        super().__init__(*blocks)
        self.active_depth = len(blocks)

    def set_active(self, depth: int) -> None:
        if not isinstance(depth, int) or not 1 <= depth <= len(self):
            raise ValueError(f"depth must be an int in [1, {len(self)}], got {depth!r}")
        set_plain(self, active_depth=depth)

    def forward(self, x):
        for block in islice(self, self.active_depth):  # iterating skips Sequential's per-index lookup
            x = block(x)
        return x

    def to_static(self, in_channels: Optional[int]) -> nn.Sequential:
        return nn.Sequential(*[self[i] for i in range(self.active_depth)])

    def active_param_count(self, in_channels: Optional[int]) -> int:
        return 0  # its blocks are counted on their own


class DropPath(nn.Module):
    """Zeroes the whole residual branch of a sample with probability ``drop_prob`` (training only) and rescales
    the kept ones by ``1 / (1 - drop_prob)``. ``drop_prob`` is set by the algorithm (BigNAS: max subnet only)."""

    def __init__(self, drop_prob: float = 0.0):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.drop_prob <= 0.0:
            return x
        keep = 1.0 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}"
