"""``MobileNetV3Slice``: a BigNAS / OFA style MobileNetV3 supernet.

``search_space`` holds four lists of the same length ``N``, one entry per stage (``Categorical`` / ``Int`` leaves
or fixed values)::

    MB_stage_blocks   blocks per stage     [first conv: 1, MB stages..., last conv: 1]
    MB_kernel_size    (depthwise) kernel   [first conv k, MB stages..., last conv: 1]
    MB_expand_ratio   expansion ratio      [first conv: 1, MB stages..., last conv: ratio of the final 1x1 expand]
    MB_out_channels   output width         [first conv, MB stages..., last conv = feat_dim]

Entry 0 is the first conv (kxk, stride ``stem_stride``, BN, act); entries 1..N-2 are inverted-residual stages
(1x1 expand (when the ratio > 1), kxk depthwise, optional SE, 1x1 project; the first block of a stage strides and
has no shortcut, later blocks keep the width and add a residual with drop-path); entry N-1 is the last conv:
a 1x1 expand to ``make_divisible(in * ratio)`` (BN, act), global pooling and a 1x1 "feature mix" conv to
``MB_out_channels[-1]`` (act): the backbone outputs ``(B, feat_dim, 1, 1)``. Per MB stage, ``stage_strides``,
``stage_se`` and ``stage_act`` fix the stride, SE use and activation (defaults exist for 7 MB stages, BigNAS's
layout). A stage's expand-ratio choices must be all 1 or all > 1 (the 1x1 expand conv exists or not).
"""
from __future__ import annotations

from typing import List, Optional, Sequence

from mmcls.models.backbones.base_backbone import BaseBackbone
from torch import nn

from ...errors import GmlConfigError
from ..ops import BatchNorm2dSlice, Conv2dSlice, DropPath, DynamicSequential, SELayerSlice, make_divisible
from ..registry import BACKBONES
from ..space import default_choice
from ._common import SearchableBackbone, build_act, check_op_cfgs, finish_static, stage_leaves

_KEYS = ("MB_stage_blocks", "MB_kernel_size", "MB_expand_ratio", "MB_out_channels")
# BigNAS's 7 MB stages (MobileNetV3 layout).
_DEFAULT_STRIDES = (1, 2, 2, 2, 1, 2, 1)
_DEFAULT_SE = (False, False, True, False, True, True, True)
_DEFAULT_ACT = ("Swish",) * 7


class InvertedResidualSlice(nn.Module):
    """1x1 expand -> kxk depthwise -> SE -> 1x1 project (+ residual with drop-path)."""

    def __init__(self, max_in: int, max_out: int, max_kernel: int, max_expand: float, stride: int, use_se: bool,
                 act: str, residual: bool, path: str):
        super().__init__()
        self.has_expand = max_expand > 1
        max_mid = make_divisible(max_in * max_expand) if self.has_expand else max_in
        if self.has_expand:
            self.expand = nn.Sequential(Conv2dSlice(max_in, max_mid, 1), BatchNorm2dSlice(max_mid),
                                        build_act(act, path))
        self.depthwise = nn.Sequential(Conv2dSlice(max_mid, max_mid, max_kernel, stride=stride, groups=max_mid),
                                       BatchNorm2dSlice(max_mid), build_act(act, path))
        self.se = SELayerSlice(max_mid) if use_se else None
        self.project = nn.Sequential(Conv2dSlice(max_mid, max_out, 1), BatchNorm2dSlice(max_out))
        self.residual = residual
        self.drop_path = DropPath() if residual else None

    def set_active(self, in_channels: int, out_channels: int, kernel: int, expand: float) -> None:
        mid = make_divisible(in_channels * expand) if self.has_expand else in_channels
        if self.has_expand:
            self.expand[0].set_active(out_channels=mid)
        self.depthwise[0].set_active(kernel_size=kernel)
        if self.se is not None:
            self.se.set_active(mid)
        self.project[0].set_active(out_channels=out_channels)

    def forward(self, x):
        out = self.expand(x) if self.has_expand else x
        out = self.depthwise(out)
        if self.se is not None:
            out = self.se(out)
        out = self.project(out)
        if self.residual:
            out = x + self.drop_path(out)
        return out


@BACKBONES.register_module()
class MobileNetV3Slice(BaseBackbone, SearchableBackbone):
    def __init__(self, search_space: dict, stage_strides: Optional[Sequence[int]] = None,
                 stage_se: Optional[Sequence[bool]] = None, stage_act: Optional[Sequence[str]] = None,
                 stem_stride: int = 2, stem_act: str = "HSwish", last_act: str = "HSwish",
                 conv_cfg: Optional[dict] = None, norm_cfg: Optional[dict] = None, in_channels: int = 3,
                 static: bool = False, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        owner = "backbone"
        check_op_cfgs(conv_cfg, norm_cfg, owner)
        if not isinstance(search_space, dict):
            raise GmlConfigError(f"{owner}.search_space", f"expected a dict, got {search_space!r}")
        unknown = sorted(set(search_space) - set(_KEYS))
        if unknown:
            raise GmlConfigError(f"{owner}.search_space", f"unknown keys {unknown}; valid: {list(_KEYS)}")
        first = stage_leaves(search_space, "MB_out_channels", None, None, owner)
        n = len(first)
        if n < 3:
            raise GmlConfigError(f"{owner}.search_space.MB_out_channels",
                                 f"needs >= 3 entries (first conv, MB stages, last conv), got {n}")
        self.search_space = {key: stage_leaves(search_space, key, n, None, owner) for key in _KEYS}
        blocks, kernels, expands, outs = (self.search_space[k] for k in _KEYS)
        num_mb = n - 2
        for index in (0, n - 1):
            if blocks[index].values != (1,):
                raise GmlConfigError(f"{owner}.search_space.MB_stage_blocks[{index}]", "first/last conv take 1 block")
        if kernels[n - 1].values != (1,):
            raise GmlConfigError(f"{owner}.search_space.MB_kernel_size[{n - 1}]", "the last conv is 1x1")
        strides = self._per_stage(stage_strides, _DEFAULT_STRIDES, num_mb, "stage_strides")
        use_se = self._per_stage(stage_se, _DEFAULT_SE, num_mb, "stage_se")
        acts = self._per_stage(stage_act, _DEFAULT_ACT, num_mb, "stage_act")

        self.stem = nn.Sequential(Conv2dSlice(in_channels, outs[0].max, kernels[0].max, stride=stem_stride),
                                  BatchNorm2dSlice(outs[0].max), build_act(stem_act, f"{owner}.stem_act"))
        self.layers = nn.ModuleList()
        max_in = outs[0].max
        for stage in range(1, n - 1):
            e = expands[stage]
            if min(e.values) <= 1 < max(e.values) or min(e.values) <= 0:
                raise GmlConfigError(f"{owner}.search_space.MB_expand_ratio[{stage}]",
                                     f"choices must be all 1 or all > 1, got {list(e.values)}")
            stage_blocks = [
                InvertedResidualSlice(max_in if j == 0 else outs[stage].max, outs[stage].max, kernels[stage].max,
                                      e.max, strides[stage - 1] if j == 0 else 1, use_se[stage - 1],
                                      acts[stage - 1], residual=j > 0, path=f"{owner}.stage_act[{stage - 1}]")
                for j in range(blocks[stage].max)]
            self.layers.append(DynamicSequential(*stage_blocks))
            max_in = outs[stage].max
        max_mid = make_divisible(max_in * expands[n - 1].max)
        self.final_expand = nn.Sequential(Conv2dSlice(max_in, max_mid, 1), BatchNorm2dSlice(max_mid),
                                          build_act(last_act, f"{owner}.last_act"))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.feature_mix = nn.Sequential(Conv2dSlice(max_mid, outs[n - 1].max, 1, bias=True),
                                         build_act(last_act, f"{owner}.last_act"))
        self.set_choice(default_choice(self.search_space), f"{owner}.search_space")
        finish_static(self, static, owner, in_channels)

    @staticmethod
    def _per_stage(value, default, length: int, key: str) -> List:
        if value is None:
            if length != len(default):
                raise GmlConfigError(f"backbone.{key}", f"required when there are {length} MB stages "
                                                        f"(defaults exist for {len(default)})")
            return list(default)
        if not isinstance(value, (list, tuple)) or len(value) != length:
            raise GmlConfigError(f"backbone.{key}", f"expected {length} entries (one per MB stage), got {value!r}")
        return list(value)

    def _apply_choice(self, choice: dict) -> None:
        blocks, kernels, expands, outs = (choice[k] for k in _KEYS)
        n = len(outs)
        self.stem[0].set_active(out_channels=outs[0], kernel_size=kernels[0])
        width = outs[0]
        for stage, layer in enumerate(self.layers, start=1):
            layer.set_active(blocks[stage])
            for j, block in enumerate(layer):
                block.set_active(width if j == 0 else outs[stage], outs[stage], kernels[stage], expands[stage])
            width = outs[stage]
        self.final_expand[0].set_active(out_channels=make_divisible(width * expands[n - 1]))
        self.feature_mix[0].set_active(out_channels=outs[n - 1])
        self.feat_dim = outs[n - 1]

    @property
    def max_feat_dim(self) -> int:
        return self.search_space["MB_out_channels"][-1].max

    def forward(self, x):
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x)
        x = self.feature_mix(self.pool(self.final_expand(x)))
        return (x,)
