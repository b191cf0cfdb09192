"""The prunable channels of a plain mmcls backbone: its supernet (optionally wider than the configured model), its
slimmable form and its channel groups.

Supported backbones (``SUPPORTED_BACKBONES``): mmcls ``ResNet``, ``ResNet_CIFAR``, ``ResNetV1c``, ``ResNetV1d``
(basic and bottleneck blocks, plain or deep stem, with or without average-pool downsampling) and ``MobileNetV2``, and
gml's ``MobileNetV2Slice`` (mmcls's MobileNetV2 under gml's name: same groups, same widening; its keys are checked
here, naming ``algorithm.model.backbone.<key>``).
Any other backbone is a :class:`GmlConfigError` naming ``algorithm.model.backbone.type``.

A **channel group** is a set of convolutions whose output widths must stay equal: the convs writing one residual
stream (the stem or a stage's downsample conv and the last conv of every block adding into it) form one group;
every other non-depthwise conv is a group of its own. Depthwise convs, BatchNorms and the classifier's linear
layer have no width of their own: they follow their input. A group is named after the dotted path (in the
classifier) of its first conv, e.g. ``backbone.layer2.0.downsample.0``.

``width_max > 1`` builds the supernet wider than the configured model: ResNet's ``stem_channels`` and
``base_channels`` and MobileNetV2's ``widen_factor`` are multiplied by it (the head's ``in_channels`` follows).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping

import torch
from torch import nn

from ...errors import GmlConfigError
from ..ops import BatchNorm2dSlice, Conv2dSlice, LinearSlice, trace_input_widths
from ..subnet import TestForward

RESNET_TYPES = ("ResNet", "ResNet_CIFAR", "ResNetV1c", "ResNetV1d")
MOBILENET_V2_TYPES = ("MobileNetV2", "MobileNetV2Slice")  # gml's MobileNetV2Slice is mmcls's module
SUPPORTED_BACKBONES = RESNET_TYPES + MOBILENET_V2_TYPES


@dataclass
class ChannelGroup:
    """Convs (``producers``, dotted paths in the classifier) whose output width is one value, up to
    ``max_channels``."""

    name: str
    max_channels: int
    producers: List[str] = field(default_factory=list)


def backbone_kind(backbone_cfg: Mapping, path: str = "algorithm.model.backbone") -> str:
    """The unscoped backbone type if DMCP supports it, else a GmlConfigError naming ``path.type``."""
    kind = str(backbone_cfg.get("type", "")).split(".")[-1]
    if kind not in SUPPORTED_BACKBONES:
        raise GmlConfigError(f"{path}.type", f"DMCP prunes mmcls {', '.join(SUPPORTED_BACKBONES)} backbones; "
                                             f"got {backbone_cfg.get('type')!r}")
    if kind == "MobileNetV2Slice":
        from ..backbones.mobilenet_v2_slice import check_mobilenet_v2_kwargs

        check_mobilenet_v2_kwargs({k: v for k, v in backbone_cfg.items() if k != "type"}, path)
    return kind


def widened_backbone_cfg(backbone_cfg: Mapping, width_max: float) -> dict:
    """``backbone_cfg`` with its width multiplied by ``width_max`` (a copy; unchanged when ``width_max == 1``)."""
    kind = backbone_kind(backbone_cfg)
    cfg = copy.deepcopy(dict(backbone_cfg))
    if width_max == 1:
        return cfg
    if kind in RESNET_TYPES:
        for key in ("stem_channels", "base_channels"):
            cfg[key] = int(round(cfg.get(key, 64) * width_max))
    else:
        cfg["widen_factor"] = float(cfg.get("widen_factor", 1.0)) * width_max
    return cfg


# --- slimmable conversion ------------------------------------------------------------------------------------------
def _slim_conv(conv: nn.Conv2d, path: str) -> Conv2dSlice:
    kernel = conv.kernel_size[0]
    if conv.kernel_size[0] != conv.kernel_size[1] or conv.padding[0] != conv.padding[1] or isinstance(
            conv.padding, str):
        raise GmlConfigError(path, f"DMCP needs square kernels and paddings, got {conv}")
    slim = Conv2dSlice(conv.in_channels, conv.out_channels, kernel, stride=conv.stride, padding=conv.padding[0],
                       dilation=conv.dilation[0], groups=conv.groups, bias=conv.bias is not None)
    slim.load_state_dict(conv.state_dict())
    return slim


def _slim_norm(norm: nn.BatchNorm2d, path: str) -> BatchNorm2dSlice:
    slim = BatchNorm2dSlice(norm.num_features, eps=norm.eps, momentum=norm.momentum, affine=norm.affine,
                            track_running_stats=norm.track_running_stats)
    slim.load_state_dict(norm.state_dict())
    return slim


def _slim_linear(linear: nn.Linear, path: str) -> LinearSlice:
    slim = LinearSlice(linear.in_features, linear.out_features, bias=linear.bias is not None)
    slim.load_state_dict(linear.state_dict())
    return slim


_CONVERSIONS: Dict[type, Callable] = {nn.Conv2d: _slim_conv, nn.BatchNorm2d: _slim_norm, nn.Linear: _slim_linear}


def make_slimmable(module: nn.Module, prefix: str = "") -> nn.Module:
    """Replace (in place) every plain ``nn.Conv2d`` / ``nn.BatchNorm2d`` / ``nn.Linear`` under ``module`` by gml's
    slimmable op holding the same weights and statistics. Returns ``module``."""
    for name, child in list(module.named_children()):
        path = f"{prefix}.{name}" if prefix else name
        convert = _CONVERSIONS.get(type(child))
        if convert is not None:
            setattr(module, name, convert(child, path))
        else:
            make_slimmable(child, path)
    return module


# --- channel groups ----------------------------------------------------------------------------------------------
class _GroupBuilder:
    def __init__(self, classifier: nn.Module):
        self.modules = dict(classifier.named_modules())
        self.groups: List[ChannelGroup] = []

    def new(self, path: str) -> ChannelGroup:
        group = ChannelGroup(path, self.modules[path].out_channels, [path])
        self.groups.append(group)
        return group

    def tie(self, group: ChannelGroup, path: str) -> ChannelGroup:
        group.producers.append(path)
        return group


def _conv_paths(module: nn.Module, prefix: str) -> List[str]:
    return [f"{prefix}.{name}" for name, m in module.named_modules() if isinstance(m, nn.Conv2d)]


def _resnet_groups(classifier: nn.Module) -> List[ChannelGroup]:
    from mmcls.models.backbones.resnet import BasicBlock, Bottleneck

    backbone = classifier.backbone
    builder = _GroupBuilder(classifier)
    if getattr(backbone, "deep_stem", False):
        stem = _conv_paths(backbone.stem, "backbone.stem")
        for path in stem[:-1]:
            builder.new(path)
        stream = builder.new(stem[-1])
    else:
        stream = builder.new("backbone.conv1")
    for layer_name in backbone.res_layers:
        for index, block in enumerate(getattr(backbone, layer_name)):
            prefix = f"backbone.{layer_name}.{index}"
            if block.downsample is not None:
                stream = builder.new(_conv_paths(block.downsample, f"{prefix}.downsample")[0])
            if isinstance(block, Bottleneck):
                builder.new(f"{prefix}.conv1")
                builder.new(f"{prefix}.conv2")
                builder.tie(stream, f"{prefix}.conv3")
            elif isinstance(block, BasicBlock):
                builder.new(f"{prefix}.conv1")
                builder.tie(stream, f"{prefix}.conv2")
            else:
                raise GmlConfigError("algorithm.model.backbone", f"DMCP supports mmcls BasicBlock / Bottleneck "
                                                                 f"blocks, got {type(block).__name__} at {prefix}")
    return builder.groups


def _mobilenet_v2_groups(classifier: nn.Module) -> List[ChannelGroup]:
    backbone = classifier.backbone
    builder = _GroupBuilder(classifier)
    stream = builder.new("backbone.conv1.conv")
    for layer_name in backbone.layers:
        if layer_name == "conv2":
            builder.new("backbone.conv2.conv")
            continue
        for index, block in enumerate(getattr(backbone, layer_name)):
            prefix = f"backbone.{layer_name}.{index}.conv"
            convs = [f"{prefix}.{i}.conv" for i in range(len(block.conv))]
            if len(convs) == 3:  # expand (1x1), depthwise, project; with expand_ratio 1 there is no expand conv
                builder.new(convs[0])
            if block.use_res_connect:
                builder.tie(stream, convs[-1])
            else:
                stream = builder.new(convs[-1])
    return builder.groups


def derive_groups(classifier: nn.Module, kind: str) -> List[ChannelGroup]:
    """The channel groups of ``classifier``'s backbone of type ``kind`` (see the module docs)."""
    if kind in RESNET_TYPES:
        return _resnet_groups(classifier)
    return _mobilenet_v2_groups(classifier)


def input_groups(classifier: nn.Module, groups: List[ChannelGroup], apply: Callable[[Dict[str, int]], None],
                 example: torch.Tensor) -> Dict[str, str]:
    """For every slimmable op of ``classifier`` whose input width is one group's width: op path -> group name.

    Found by probing the test forward on ``example``: with every group at its maximum, then one group at a time one
    channel narrower, the ops whose input width changes read that group. ``apply(widths)`` sets the widths. Ops
    reading the image are absent."""
    runner = TestForward(classifier)
    names = {module: path for path, module in classifier.named_modules()}
    full = {g.name: g.max_channels for g in groups}
    was_training = classifier.training
    classifier.eval()
    apply(full)
    owners: Dict[str, str] = {}
    try:
        reference = trace_input_widths(runner, example)
        for group in groups:
            if group.max_channels < 2:
                continue
            apply(dict(full, **{group.name: group.max_channels - 1}))
            for module, width in trace_input_widths(runner, example).items():
                if width != reference.get(module):
                    owners[names[module]] = group.name
    finally:
        apply(full)
        classifier.train(was_training)
    return owners
