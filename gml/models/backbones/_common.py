"""What the searchable backbones share: activations, config checks, the static (exported) form."""
from __future__ import annotations

import abc
from typing import Any, Dict, List, Optional

import torch
from torch import nn

from ...errors import GmlConfigError
from ..ops import to_static_model
from ..space import Choices, Searchable, default_choice, leaves_as_list

ACTIVATIONS = {"ReLU": nn.ReLU, "ReLU6": nn.ReLU6, "HSwish": nn.Hardswish, "Swish": nn.SiLU, "SiLU": nn.SiLU}


def build_act(name: str, path: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise GmlConfigError(path, f"unknown activation {name!r}; valid: {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name](inplace=True) if name != "HSwish" else nn.Hardswish(inplace=True)


def check_op_cfgs(conv_cfg: Optional[dict], norm_cfg: Optional[dict], owner: str) -> None:
    """Searchable backbones build slimmable ops; other conv/norm types cannot share weights across widths."""
    conv_type = (conv_cfg or {}).get("type", "Conv2dSlice")
    if conv_type not in ("Conv2dSlice", "gml.Conv2dSlice"):
        raise GmlConfigError(f"{owner}.conv_cfg.type", f"must be 'Conv2dSlice', got {conv_type!r}")
    norm_type = (norm_cfg or {}).get("type", "BN")
    if norm_type not in ("BN", "BN2d", "BatchNorm2dSlice", "gml.BatchNorm2dSlice"):
        raise GmlConfigError(f"{owner}.norm_cfg.type", f"must be 'BN' (sliced batch norm), got {norm_type!r}")


def stage_leaves(space: Dict[str, Any], key: str, length: Optional[int], default: Optional[list],
                 owner: str) -> List[Choices]:
    value = space.get(key, default)
    if value is None:
        raise GmlConfigError(f"{owner}.search_space.{key}", "is required")
    return leaves_as_list(value, length, f"{owner}.search_space.{key}")


def finish_static(backbone: nn.Module, static: bool, owner: str, in_channels: int = 3, size: int = 64) -> None:
    """When ``static``: every dimension must be fixed; the dynamic ops are then replaced by plain torch modules
    holding the same shapes (the form an exported subnet config builds)."""
    if not static:
        return
    loose = [key for key, value in backbone.search_space.items()
             if any(not c.is_fixed for c in (value if isinstance(value, list) else [value]))]
    if loose:
        raise GmlConfigError(f"{owner}.static", f"needs one choice per dimension; searchable: {loose}")
    backbone.set_choice(default_choice(backbone.search_space), f"{owner}.search_space")
    was_training = backbone.training
    backbone.eval()
    to_static_model(backbone, torch.zeros(1, in_channels, size, size))
    backbone.train(was_training)
    backbone.is_static = True


class SearchableBackbone(Searchable):
    """``search_space`` (parsed), ``current_choice`` and ``feat_dim`` (the output width now) for backbones."""

    is_static = False

    def set_choice(self, choice: dict, path: str = "backbone") -> None:
        if self.is_static:
            raise RuntimeError(f"{type(self).__name__} was built static (an exported subnet); it has no choices")
        from ..space import validate_choice
        choice = validate_choice(self.search_space, choice, path)
        self._apply_choice(choice)
        self._choice = choice

    @property
    def current_choice(self) -> dict:
        return self._choice

    @abc.abstractmethod
    def _apply_choice(self, choice: dict) -> None:
        """Configure the backbone's dynamic ops for a validated ``choice``."""
