"""``LinearSlice``: a linear layer over the first ``in`` input features (the input width) and the first
``active_out_features`` outputs."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from .base import DynamicOp, check_width, set_plain, weight_count, with_weights
from .slicing import sub_block


class LinearSlice(nn.Linear, DynamicOp):
    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__(in_features, out_features, bias=bias)
        self.active_out_features = out_features

    def set_active(self, out_features: int) -> None:
        set_plain(self, active_out_features=check_width("out_features", int(out_features), self.out_features))

    def active_weight(self, in_features: int):
        check_width("input features", in_features, self.in_features)
        out = self.active_out_features
        return (sub_block(self.weight, (out, in_features)),
                sub_block(self.bias, (out,)) if self.bias is not None else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias = self.active_weight(x.shape[-1])
        return F.linear(x, weight, bias)

    def to_static(self, in_channels: Optional[int]) -> nn.Linear:
        weight, bias = self.active_weight(in_channels)
        return with_weights(nn.Linear(in_channels, weight.shape[0], bias=bias is not None), weight, bias)

    def active_param_count(self, in_channels: Optional[int]) -> int:
        weight, bias = self.active_weight(in_channels)
        return weight_count(weight, bias)
