"""``ResizeSlice``: resizes the input images to the searched resolution (bilinear, no corner alignment).

It is searchable on its own (``search_space = {'resolution': Choices}``) so a classifier can hold it as
``resize_process``; its static form is ``nn.Identity`` because an exported model resizes in its data pipeline
(``tools/export_subnet.py`` writes that ``Resize`` step).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..space import Searchable, check_value, parse_leaf
from .base import DynamicOp


class ResizeSlice(nn.Module, DynamicOp, Searchable):
    def __init__(self, resolution: Any):
        super().__init__()
        self.resolution_choices = parse_leaf(resolution, "resize_process.resolution")
        self.active_resolution = self.resolution_choices.default

    # searchable contract (see gml.models.mutators)
    @property
    def search_space(self) -> Dict[str, Any]:
        return {"resolution": self.resolution_choices}

    @property
    def current_choice(self) -> Dict[str, Any]:
        return {"resolution": self.active_resolution}

    def set_choice(self, choice: Dict[str, Any], path: str = "resize_process") -> None:
        self.active_resolution = check_value(self.resolution_choices, choice["resolution"], f"{path}.resolution")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = int(self.active_resolution)
        if tuple(x.shape[-2:]) == (size, size):
            return x
        return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)

    def to_static(self, in_channels: Optional[int]) -> nn.Module:
        return nn.Identity()

    def active_param_count(self, in_channels: Optional[int]) -> int:
        return 0
