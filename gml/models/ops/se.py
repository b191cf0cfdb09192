"""``SELayerSlice``: squeeze-and-excitation whose squeeze width follows the input width
(``make_divisible(c * ratio, 8)``), built from two ``Conv2dSlice`` 1x1 convs so it slims with its block."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .conv import Conv2dSlice


def make_divisible(value: float, divisor: int = 8, min_value: int = None) -> int:
    """The nearest multiple of ``divisor`` to ``value``, at least ``min_value`` and not below 90% of ``value``."""
    min_value = min_value or divisor
    new_value = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if new_value < 0.9 * value:
        new_value += divisor
    return new_value


class SELayerSlice(nn.Module):
    def __init__(self, channels: int, ratio: float = 0.25):
        super().__init__()
        self.ratio = ratio
        squeeze = make_divisible(channels * ratio)
        self.reduce = Conv2dSlice(channels, squeeze, 1, bias=True)
        self.expand = Conv2dSlice(squeeze, channels, 1, bias=True)

    def set_active(self, channels: int) -> None:
        self.reduce.set_active(out_channels=make_divisible(channels * self.ratio))
        self.expand.set_active(out_channels=channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = F.adaptive_avg_pool2d(x, 1)
        scale = F.relu(self.reduce(scale), inplace=True)
        scale = F.hardsigmoid(self.expand(scale), inplace=True)
        return x * scale
