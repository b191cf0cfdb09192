"""Building DMCP's networks from a plain mmcls classifier config.

- :func:`build_slimmable_classifier`: the supernet: the configured ``mmcls.ImageClassifier`` (backbone widened by
  ``width_max``), its convs / BatchNorms / classifier layer replaced by gml's slimmable ops.
- ``gml.PrunedBackbone`` (:func:`pruned_backbone`): a backbone config entry that builds the mmcls backbone at the
  supernet width and cuts it to given group widths, leaving plain ``nn.Conv2d`` / ``nn.BatchNorm2d`` modules under
  the mmcls backbone class. Its state-dict keys are the supernet's, so a pruned model loads the supernet's sliced
  weights. Plain mmcls builds it once ``gml.models`` is imported (``custom_imports``).
- :func:`pruned_classifier_cfg`: the plain ``mmcls.ImageClassifier`` config of a pruned structure.
"""
from __future__ import annotations

import copy
from typing import Dict, Mapping, Sequence, Tuple

import torch
from torch import nn

from ...errors import GmlConfigError
from ...validation import integer, invalid
from ..builder import build_model
from ..ops import Conv2dSlice, to_static_model
from ..registry import MODELS
from .channel_space import (ChannelGroup, backbone_kind, derive_groups, make_slimmable, widened_backbone_cfg)


def _feature_channels(backbone: nn.Module, input_shape: Sequence[int]) -> int:
    was_training = backbone.training
    backbone.eval()
    try:
        with torch.no_grad():
            feats = backbone(torch.zeros(1, *input_shape, device=_device(backbone)))
    finally:
        backbone.train(was_training)
    if isinstance(feats, (tuple, list)):
        feats = feats[-1]
    return int(feats.shape[1])


def _device(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


def _check_head(model_cfg: Mapping, classifier: nn.Module) -> None:
    head = getattr(classifier, "head", None)
    if not isinstance(getattr(head, "fc", None), nn.Linear) or not hasattr(head, "pre_logits"):
        raise GmlConfigError("algorithm.model.head.type", "DMCP needs an mmcls linear classification head "
                                                          f"(LinearClsHead), got {model_cfg.get('head')!r}")


def build_slimmable_classifier(model_cfg: Mapping, width_max: float,
                               input_shape: Sequence[int]) -> Tuple[nn.Module, str]:
    """(slimmable classifier at ``width_max``, backbone kind) from a plain mmcls ``ImageClassifier`` config."""
    cfg = copy.deepcopy(dict(model_cfg))
    kind = backbone_kind(cfg.get("backbone") or {})
    cfg["backbone"] = widened_backbone_cfg(cfg["backbone"], width_max)
    classifier = build_model(cfg)
    _check_head(model_cfg, classifier)
    channels = _feature_channels(classifier.backbone, input_shape)
    head = classifier.head
    if head.fc.in_features != channels:  # a supernet wider than the model: the classifier reads more features
        head.fc = nn.Linear(channels, head.fc.out_features, bias=head.fc.bias is not None)
        head.in_channels = channels
    make_slimmable(classifier)
    return classifier, kind


def group_map(groups: Sequence[ChannelGroup]) -> Dict[str, ChannelGroup]:
    return {group.name: group for group in groups}


def apply_widths(classifier: nn.Module, groups: Sequence[ChannelGroup], widths: Mapping[str, int],
                 prefix: str = "") -> None:
    """Set every producer conv of every group to the group's width (``prefix`` strips the group paths' start,
    for a bare backbone)."""
    modules = dict(classifier.named_modules())
    for group in groups:
        for path in group.producers:
            conv = modules[path[len(prefix):]]
            if isinstance(conv, Conv2dSlice):
                conv.set_active(out_channels=int(widths[group.name]))


def check_channels(groups: Sequence[ChannelGroup], channels: Mapping, path: str) -> Dict[str, int]:
    """``channels`` (group name -> width) checked: exactly the groups' names, ints in ``[1, max_channels]``."""
    if not isinstance(channels, Mapping):
        raise invalid(path, channels, "a mapping of channel group -> width")
    known = group_map(groups)
    missing = sorted(set(known) - set(channels))
    unknown = sorted(set(channels) - set(known))
    if missing or unknown:
        raise GmlConfigError(path, f"must name every channel group of the model exactly once; missing {missing}, "
                                   f"unknown {unknown}")
    checked = {}
    for name, group in known.items():
        checked[name] = integer(f"{path}.{name}", channels[name], least=1, most=group.max_channels)
    return checked


class _Holder(nn.Module):
    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.backbone = backbone


@MODELS.register_module(name="PrunedBackbone")
def pruned_backbone(backbone: dict, channels: Dict[str, int], width_max: float = 1.0,
                    input_shape: Sequence[int] = (3, 224, 224)) -> nn.Module:
    """The mmcls ``backbone`` (config) widened by ``width_max`` and cut to ``channels`` (channel group -> width,
    as DMCP writes them), made of plain torch modules. Freshly initialised (``init_weights`` re-initialises)."""
    kind = backbone_kind(backbone, "model.backbone.backbone")
    module = build_model(widened_backbone_cfg(backbone, width_max))
    make_slimmable(module)
    holder = _Holder(module)
    groups = derive_groups(holder, kind)
    widths = check_channels(groups, channels, "model.backbone.channels")
    apply_widths(module, groups, widths, prefix="backbone.")
    was_training = module.training
    module.eval()
    to_static_model(module, torch.zeros(1, *input_shape))
    module.train(was_training)
    return module


def pruned_classifier_cfg(model_cfg: Mapping, channels: Dict[str, int], width_max: float,
                          input_shape: Sequence[int]) -> dict:
    """The plain ``mmcls.ImageClassifier`` config of ``model_cfg`` pruned to ``channels``: backbone
    ``gml.PrunedBackbone``, head ``in_channels`` set to the pruned feature width."""
    cfg = copy.deepcopy(dict(model_cfg))
    cfg["type"] = "mmcls.ImageClassifier"
    backbone = dict(type="gml.PrunedBackbone", backbone=cfg["backbone"], channels=dict(channels),
                    width_max=float(width_max), input_shape=list(input_shape))
    cfg["backbone"] = backbone
    cfg["head"] = dict(cfg["head"], in_channels=_feature_channels(pruned_backbone(
        backbone["backbone"], channels, width_max, input_shape), input_shape))
    return cfg

