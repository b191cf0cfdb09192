"""``ResNetSlice``: a ResNet supernet searching the stem width, each stage's width and each stage's depth.

``search_space`` keys (all optional; defaults give the plain ResNet of ``depth``)::

    stem_channels       leaf                     (default 64)
    stage_out_channel   list, one per stage      (default 64, 128, 256, 512; x4 for bottleneck ResNets)
    stage_blocks        list, one per stage      (default: the depth's block counts, e.g. 2, 2, 2, 2 for 18)

Depth 18/34 use basic blocks, 50 bottlenecks (inner width = out / 4). The first block of every stage has a
projection shortcut (1x1 conv + BN) because its input and output widths vary independently; later blocks add an
identity residual (with drop-path). ``stem_kernel``/``stem_stride``/``stem_pool`` (7, 2, True = ImageNet stem;
3, 1, False suits 32x32 inputs). The last BN of each residual branch starts at zero (``zero_init_residual``).
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from mmcls.models.backbones.base_backbone import BaseBackbone
from torch import nn

from ...errors import GmlConfigError
from ..ops import BatchNorm2dSlice, Conv2dSlice, DropPath, DynamicSequential
from ..registry import BACKBONES
from ..space import default_choice, parse_leaf
from ._common import SearchableBackbone, check_op_cfgs, finish_static, stage_leaves

_ARCH = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)), 50: ("bottleneck", (3, 4, 6, 3))}


class ResBlockSlice(nn.Module):
    """Basic (3x3, 3x3) or bottleneck (1x1, 3x3, 1x1) residual block with sliced widths."""

    def __init__(self, kind: str, max_in: int, max_out: int, stride: int, first: bool):
        super().__init__()
        self.kind = kind
        if kind == "basic":
            self.conv1, self.bn1 = Conv2dSlice(max_in, max_out, 3, stride=stride), BatchNorm2dSlice(max_out)
            self.conv2, self.bn2 = Conv2dSlice(max_out, max_out, 3), BatchNorm2dSlice(max_out)
        else:
            mid = max(1, max_out // 4)
            self.conv1, self.bn1 = Conv2dSlice(max_in, mid, 1), BatchNorm2dSlice(mid)
            self.conv2, self.bn2 = Conv2dSlice(mid, mid, 3, stride=stride), BatchNorm2dSlice(mid)
            self.conv3, self.bn3 = Conv2dSlice(mid, max_out, 1), BatchNorm2dSlice(max_out)
        self.last_bn_name = "bn2" if kind == "basic" else "bn3"  # a name, not a second reference to the module
        self.relu = nn.ReLU(inplace=True)
        self.downsample = (nn.Sequential(Conv2dSlice(max_in, max_out, 1, stride=stride), BatchNorm2dSlice(max_out))
                           if first else None)
        self.drop_path = DropPath() if not first else None

    def set_active(self, out_channels: int) -> None:
        if self.kind == "basic":
            self.conv1.set_active(out_channels=out_channels)
            self.conv2.set_active(out_channels=out_channels)
        else:
            mid = max(1, out_channels // 4)
            self.conv1.set_active(out_channels=mid)
            self.conv2.set_active(out_channels=mid)
            self.conv3.set_active(out_channels=out_channels)
        if self.downsample is not None:
            self.downsample[0].set_active(out_channels=out_channels)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        if self.kind == "basic":
            out = self.bn2(self.conv2(out))
        else:
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            return self.relu(out + self.downsample(x))
        return self.relu(x + self.drop_path(out))


@BACKBONES.register_module()
class ResNetSlice(BaseBackbone, SearchableBackbone):
    def __init__(self, depth: int, search_space: Optional[dict] = None, num_stages: int = 4,
                 strides: Sequence[int] = (1, 2, 2, 2), out_indices: Sequence[int] = (3,), stem_kernel: int = 7,
                 stem_stride: int = 2, stem_pool: bool = True, in_channels: int = 3, zero_init_residual: bool = True,
                 conv_cfg: Optional[dict] = None, norm_cfg: Optional[dict] = None, static: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        owner = "backbone"
        check_op_cfgs(conv_cfg, norm_cfg, owner)
        if depth not in _ARCH:
            raise GmlConfigError(f"{owner}.depth", f"must be one of {sorted(_ARCH)}, got {depth!r}")
        kind, default_blocks = _ARCH[depth]
        if not 1 <= num_stages <= 4 or len(strides) != num_stages:
            raise GmlConfigError(f"{owner}.num_stages", f"needs 1..4 stages and one stride each, got "
                                                        f"num_stages={num_stages}, strides={tuple(strides)}")
        space = dict(search_space or {})
        unknown = sorted(set(space) - {"stem_channels", "stage_out_channel", "stage_blocks"})
        if unknown:
            raise GmlConfigError(f"{owner}.search_space", f"unknown keys {unknown}; valid: stem_channels, "
                                                          "stage_out_channel, stage_blocks")
        widths = [64 * 2 ** i * (4 if kind == "bottleneck" else 1) for i in range(num_stages)]
        self.search_space = {
            "stem_channels": parse_leaf(space.get("stem_channels", 64), f"{owner}.search_space.stem_channels"),
            "stage_out_channel": stage_leaves(space, "stage_out_channel", num_stages, widths, owner),
            "stage_blocks": stage_leaves(space, "stage_blocks", num_stages, list(default_blocks[:num_stages]),
                                         owner),
        }
        self.out_indices = tuple(i % num_stages for i in out_indices)
        stem_max = self.search_space["stem_channels"].max
        self.stem = nn.Sequential(Conv2dSlice(in_channels, stem_max, stem_kernel, stride=stem_stride),
                                  BatchNorm2dSlice(stem_max), nn.ReLU(inplace=True))
        self.stem_pool = nn.MaxPool2d(3, stride=2, padding=1) if stem_pool else nn.Identity()
        self.layers = nn.ModuleList()
        max_in = stem_max
        for stage in range(num_stages):
            max_out = self.search_space["stage_out_channel"][stage].max
            blocks = [ResBlockSlice(kind, max_in if j == 0 else max_out, max_out, strides[stage] if j == 0 else 1,
                                    first=j == 0) for j in range(self.search_space["stage_blocks"][stage].max)]
            self.layers.append(DynamicSequential(*blocks))
            max_in = max_out
        if zero_init_residual:
            for block in self.modules():
                if isinstance(block, ResBlockSlice) and block.downsample is None:
                    nn.init.zeros_(getattr(block, block.last_bn_name).weight)
        self.set_choice(default_choice(self.search_space), f"{owner}.search_space")
        finish_static(self, static, owner, in_channels)

    def init_weights(self):
        # mmcv's default init would undo zero_init_residual only with an init_cfg; keep ours unless one is given.
        if self.init_cfg is not None:
            super().init_weights()

    def _apply_choice(self, choice: dict) -> None:
        self.stem[0].set_active(out_channels=choice["stem_channels"])
        for stage, layer in enumerate(self.layers):
            layer.set_active(choice["stage_blocks"][stage])
            for block in layer:
                block.set_active(choice["stage_out_channel"][stage])
        self.feat_dim = choice["stage_out_channel"][-1]

    @property
    def max_feat_dim(self) -> int:
        return self.search_space["stage_out_channel"][-1].max

    def forward(self, x: torch.Tensor):
        x = self.stem_pool(self.stem(x))
        outs = []
        for stage, layer in enumerate(self.layers):
            x = layer(x)
            if stage in self.out_indices:
                outs.append(x)
        return tuple(outs)
