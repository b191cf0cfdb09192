"""``ShuffleNetV2_OneShot``: the single-path one-shot supernet of SPOS (Guo et al., ECCV 2020).

Every block chooses one of four ShuffleNetV2 units: ``shuffle_3x3``, ``shuffle_5x5``, ``shuffle_7x7`` (the
depthwise kernel of the unit's main branch) and ``shuffle_xception`` (three 3x3 depthwise + pointwise pairs).
All four keep their own weights (no weight sharing between choices); a forward runs only the chosen one, so the
others get no gradient.

Layout: a 3x3 stem conv (``stem_channels``, stride ``stem_stride``), stages of ``stage_blocks[i]`` blocks with
``stage_channels[i]`` output channels (the first block of a stage has stride ``stage_strides[i]``), a 1x1 conv to
``last_channels``. The paper's ImageNet supernet is stage_blocks [4, 4, 8, 4], stage_channels [64, 160, 320,
640], last_channels 1024, stem 16 stride 2 (followed there by a max pool, left out here); configs scale it down.

``search_space=dict(blocks=LEAF)`` with LEAF a Categorical over the four names (every block the same choices) or a
list of leaves, one per block; a plain name fixes a block. The choice is ``{'blocks': [name, ...]}``.
``static=True`` (an exported subnet) needs one name per block and builds only those units.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import torch
from mmcv.runner import BaseModule
from torch import nn

from ...errors import GmlConfigError
from ..ops.base import DynamicOp
from ..registry import BACKBONES
from ..space import Choices, Searchable, default_choice, leaves_as_list, parse_leaf, validate_choice

CHOICES = ("shuffle_3x3", "shuffle_5x5", "shuffle_7x7", "shuffle_xception")


def _bn_relu(channels: int, relu: bool = True) -> List[nn.Module]:
    return [nn.BatchNorm2d(channels)] + ([nn.ReLU(inplace=True)] if relu else [])


def _pw(cin: int, cout: int, relu: bool = True) -> List[nn.Module]:
    return [nn.Conv2d(cin, cout, 1, bias=False)] + _bn_relu(cout, relu)


def _dw(channels: int, kernel: int, stride: int) -> List[nn.Module]:
    return [nn.Conv2d(channels, channels, kernel, stride, kernel // 2, groups=channels, bias=False),
            nn.BatchNorm2d(channels)]


def channel_shuffle(x: torch.Tensor) -> torch.Tensor:
    """Interleave the two halves of the channels (groups = 2)."""
    n, c, h, w = x.shape
    return x.view(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)


class ShuffleUnit(nn.Module):
    """One ShuffleNetV2 unit. Stride 1 at constant width: the channels split in two halves, the main branch
    transforms the second; otherwise (stride 2, or a change of width): a projection branch (depthwise + pointwise)
    beside the main branch, both on the whole input.
    The main branch is pw-dw(k)-pw (``kernel`` 3/5/7) or, with ``xception``, three dw3x3-pw pairs."""

    def __init__(self, cin: int, cout: int, stride: int, kernel: int = 3, xception: bool = False):
        super().__init__()
        self.split = stride == 1 and cin == cout
        if not self.split and cout <= cin:
            raise ValueError(f"a unit that projects must widen, got {cin} -> {cout}")
        branch_in = cin // 2 if self.split else cin
        branch_out = cout - branch_in
        mid = cout // 2
        if xception:
            layers = (_dw(branch_in, 3, stride) + _pw(branch_in, mid) + _dw(mid, 3, 1) + _pw(mid, mid)
                      + _dw(mid, 3, 1) + _pw(mid, branch_out))
        else:
            layers = _pw(branch_in, mid) + _dw(mid, kernel, stride) + _pw(mid, branch_out)
        self.main = nn.Sequential(*layers)
        self.proj = None if self.split else nn.Sequential(*(_dw(cin, kernel, stride) + _pw(cin, cin)))

    def forward(self, x):
        if self.split:
            keep, work = x.chunk(2, dim=1)
            return channel_shuffle(torch.cat([keep, self.main(work)], dim=1))
        return channel_shuffle(torch.cat([self.proj(x), self.main(x)], dim=1))


def build_unit(name: str, cin: int, cout: int, stride: int) -> ShuffleUnit:
    if name == "shuffle_xception":
        return ShuffleUnit(cin, cout, stride, xception=True)
    return ShuffleUnit(cin, cout, stride, kernel=int(name[-1]))


class ChoiceBlock(nn.Module, DynamicOp):
    """A block holding one unit per choice name (``units``) and running the ``active`` one.

    As a dynamic op, its static form keeps only the active unit (same key, so state dicts match a static build);
    its units count their own parameters, so ``active_param_count`` is 0."""

    def __init__(self, names: Sequence[str], cin: int, cout: int, stride: int):
        super().__init__()
        self.units = nn.ModuleDict({name: build_unit(name, cin, cout, stride) for name in names})
        self.active = names[-1]

    def forward(self, x):
        return self.units[self.active](x)

    def to_static(self, in_channels):
        if len(self.units) == 1:
            return self
        static = ChoiceBlock.__new__(ChoiceBlock)
        nn.Module.__init__(static)
        static.units = nn.ModuleDict({self.active: self.units[self.active]})
        static.active = self.active
        return static

    def active_param_count(self, in_channels):
        return 0


@BACKBONES.register_module(name="ShuffleNetV2_OneShot")
class ShuffleNetV2OneShot(BaseModule, Searchable):
    """See the module docstring."""

    def __init__(self, search_space: Optional[dict] = None, stage_blocks: Sequence[int] = (4, 4, 8, 4),
                 stage_channels: Sequence[int] = (64, 160, 320, 640), stage_strides: Optional[Sequence[int]] = None,
                 stem_channels: int = 16, stem_stride: int = 2, last_channels: int = 1024, in_channels: int = 3,
                 static: bool = False, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        owner = "model.backbone"
        if len(stage_blocks) != len(stage_channels) or not stage_blocks:
            raise GmlConfigError(f"{owner}.stage_channels", f"needs one width per stage ({len(stage_blocks)}), "
                                                             f"got {list(stage_channels)}")
        strides = list(stage_strides) if stage_strides is not None else [2] * len(stage_blocks)
        if len(strides) != len(stage_blocks) or any(s not in (1, 2) for s in strides):
            raise GmlConfigError(f"{owner}.stage_strides", f"one stride (1 or 2) per stage, got {strides}")
        widths = [stem_channels] + list(stage_channels)
        if any(b <= a for a, b in zip(widths, widths[1:])) or any(w % 2 for w in widths):
            raise GmlConfigError(f"{owner}.stage_channels", f"even widths growing from stem_channels "
                                                             f"({stem_channels}) stage by stage, got {list(stage_channels)}")
        count = sum(stage_blocks)
        space = dict(search_space or {"blocks": dict(type="Categorical", data=list(CHOICES))})
        unknown = sorted(set(space) - {"blocks"})
        if unknown:
            raise GmlConfigError(f"{owner}.search_space.{unknown[0]}", "unknown key; valid: blocks")
        leaves = space["blocks"]
        if not isinstance(leaves, (list, tuple)):
            leaves = [parse_leaf(leaves, f"{owner}.search_space.blocks")] * count
        blocks = leaves_as_list(leaves, count, f"{owner}.search_space.blocks")
        for i, leaf in enumerate(blocks):
            bad = [v for v in leaf.values if v not in CHOICES]
            if bad:
                raise GmlConfigError(f"{owner}.search_space.blocks[{i}]",
                                     f"unknown block {bad[0]!r}; valid: {', '.join(CHOICES)}")
        if static and any(not leaf.is_fixed for leaf in blocks):
            raise GmlConfigError(f"{owner}.static", "needs one choice per block")
        self.search_space = {"blocks": blocks}
        self.is_static = static
        self.stem = nn.Sequential(nn.Conv2d(in_channels, stem_channels, 3, stem_stride, 1, bias=False),
                                  *_bn_relu(stem_channels))
        layers, cin, index = [], stem_channels, 0
        for blocks_in_stage, cout, stride in zip(stage_blocks, stage_channels, strides):
            for j in range(blocks_in_stage):
                layers.append(ChoiceBlock(list(blocks[index].values), cin, cout, stride if j == 0 else 1))
                cin, index = cout, index + 1
        self.layers = nn.Sequential(*layers)
        self.last = nn.Sequential(*_pw(cin, last_channels))
        self.feat_dim = last_channels
        self.set_choice(default_choice(self.search_space), f"{owner}.search_space")

    @property
    def current_choice(self) -> dict:
        return {"blocks": [block.active for block in self.layers]}

    def set_choice(self, choice: dict, path: str = "backbone") -> None:
        choice = validate_choice(self.search_space, choice, path)
        for block, name in zip(self.layers, choice["blocks"]):
            block.active = name

    def forward(self, x):
        return (self.last(self.layers(self.stem(x))),)
