"""DMCP's FLOPs side: the expected FLOPs of a pruned network as a differentiable function of its groups' widths,
and the FLOPs losses. One unit throughout: **MFLOPs** (10^6 multiply-accumulates per image, gml's counting
convention of :mod:`gml.models.ops.flops`: convolutions and linear layers, biases not counted), for the expected
FLOPs, ``target_flops`` and the losses alike.

:class:`FlopsModel` records, once, every conv and linear layer of the classifier at the maximum width (kernel
area, output positions, which group's width it reads and writes), so that
``flops(widths) = sum over layers of k*k * H*W * c_in / groups * c_out (+ in * out for linear)`` with
``c = widths[group]`` (or the fixed width when no group sets it). At integer widths it equals the counter exactly;
with expected widths (tensors) it is DMCP's expected FLOPs.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import List, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from ..ops import Conv2dSlice, DeviceConstants, LinearSlice
from ..subnet import TestForward

Width = Union[int, float, torch.Tensor]


@dataclass(frozen=True)
class LayerCost:
    """One conv/linear layer: ``macs = positions * kernel_area * c_in / (c_in if depthwise else 1) * c_out``."""

    path: str
    positions: int
    kernel_area: int
    in_group: Optional[str]
    out_group: Optional[str]
    fixed_in: int
    fixed_out: int
    depthwise: bool


class FlopsModel:
    """Expected FLOPs (MFLOPs) of a slimmable classifier as a function of its group widths."""

    def __init__(self, layers: List[LayerCost]):
        self.layers = layers

    @classmethod
    def trace(cls, classifier: nn.Module, example: torch.Tensor, in_groups: Mapping[str, str],
              out_groups: Mapping[str, str]) -> "FlopsModel":
        """Record the layers of ``classifier``'s test forward on ``example`` (one image, every group at its
        maximum). ``in_groups`` / ``out_groups``: layer path -> name of the group setting its input / output."""
        paths = {module: path for path, module in classifier.named_modules()}
        layers: List[LayerCost] = []

        def hook(module, args, out):
            path = paths[module]
            if isinstance(module, Conv2dSlice):
                depthwise = module.depthwise
                kernel_area = module.active_kernel_size ** 2
                positions = out.shape[2] * out.shape[3]
                fixed_in, fixed_out = args[0].shape[1], out.shape[1]
            else:
                depthwise, kernel_area = False, 1
                positions = out.numel() // out.shape[0] // out.shape[-1]
                fixed_in, fixed_out = args[0].shape[-1], out.shape[-1]
            in_group = in_groups.get(path)
            out_group = in_group if depthwise else out_groups.get(path)
            layers.append(LayerCost(path, positions, kernel_area, in_group, out_group, fixed_in, fixed_out,
                                    depthwise))

        handles = [m.register_forward_hook(hook) for m in classifier.modules()
                   if isinstance(m, (Conv2dSlice, LinearSlice))]
        was_training = classifier.training
        classifier.eval()
        try:
            with torch.no_grad():
                TestForward(classifier)(example[:1])
        finally:
            classifier.train(was_training)
            for handle in handles:
                handle.remove()
        return cls(layers)

    def flops(self, widths: Mapping[str, Width]) -> Width:
        """MFLOPs per image at ``widths`` (group name -> width; a tensor gives a differentiable result)."""
        total: Width = 0.0
        for layer in self.layers:
            c_in = widths[layer.in_group] if layer.in_group is not None else layer.fixed_in
            c_out = widths[layer.out_group] if layer.out_group is not None else layer.fixed_out
            per_out = 1 if layer.depthwise else c_in
            total = total + layer.positions * layer.kernel_area * per_out * c_out
        return total / 1e6


    def quadratic_form(self, names: Sequence[str], fixed: Mapping[str, int]) -> "QuadraticFlops":
        """:meth:`flops` as a quadratic form in the widths of the groups ``names`` (in that order), the groups of
        ``fixed`` held at their given widths: what evaluates expected FLOPs in a handful of tensor ops however
        many layers the model has."""
        index = {name: i for i, name in enumerate(names)}
        quadratic = [[0] * len(names) for _ in names]
        linear = [0] * len(names)
        constant = 0

        def factor(group: Optional[str], fixed_width: int):
            """(group index or None, constant factor) of one side of a layer's product."""
            if group is None:
                return None, fixed_width
            if group in index:
                return index[group], 1
            return None, fixed[group]

        for layer in self.layers:
            in_index, in_factor = (None, 1) if layer.depthwise else factor(layer.in_group, layer.fixed_in)
            out_index, out_factor = factor(layer.out_group, layer.fixed_out)
            coefficient = layer.positions * layer.kernel_area * in_factor * out_factor
            if in_index is not None and out_index is not None:
                quadratic[in_index][out_index] += coefficient
            elif in_index is not None or out_index is not None:
                linear[in_index if in_index is not None else out_index] += coefficient
            else:
                constant += coefficient
        return QuadraticFlops(tuple(names), tuple(map(tuple, quadratic)), tuple(linear), constant)


@dataclass(frozen=True)
class QuadraticFlops:
    """MFLOPs per image as ``(w @ quadratic @ w + linear @ w + constant) / 1e6`` for the width vector ``w`` of the
    groups ``names`` (integer coefficients, exactly those of :meth:`FlopsModel.flops`). The same value as
    :meth:`FlopsModel.flops` up to float rounding (the terms are summed in another order)."""

    names: Tuple[str, ...]
    quadratic: Tuple[Tuple[int, ...], ...]
    linear: Tuple[int, ...]
    constant: int
    _constants: DeviceConstants = field(default_factory=DeviceConstants, compare=False, repr=False)

    def __call__(self, widths: torch.Tensor) -> torch.Tensor:
        """MFLOPs at ``widths`` (a vector ordered like ``names``), differentiable in it."""
        quadratic = self._constants.get("quadratic", self.quadratic, widths)
        linear = self._constants.get("linear", self.linear, widths)
        return (widths @ (quadratic @ widths) + linear @ widths + self.constant) / 1e6


class FlopsLossType(str, enum.Enum):
    L2 = "l2"
    L1 = "l1"
    LOG_L1 = "log_l1"
    INVERTED_LOG_L1 = "inverted_log_l1"


#: Width of the dead zone below the target, as a fraction of it: no FLOPs loss for E in [0.95 T, T].
DEAD_ZONE = 0.05


def flops_loss(expected: torch.Tensor, target: float, kind: FlopsLossType, weight: float = 1.0) -> torch.Tensor:
    """``weight * f(d)`` where ``d`` is the distance (MFLOPs) of the expected FLOPs ``expected`` from the dead zone
    ``[(1 - DEAD_ZONE) * target, target]`` (0 inside it):

    - ``l2``: ``d^2``; ``l1``: ``d``;
    - ``log_l1``: ``log(1 + d)`` (large distances do not swamp the task loss);
    - ``inverted_log_l1``: ``-log(1 / (1 + d))``, the same value as ``log_l1`` (DMCP's configs name both).

    Every loss is 0 with a zero gradient inside the dead zone, and pushes ``expected`` towards it outside.
    """
    low = (1.0 - DEAD_ZONE) * target
    distance = torch.relu(expected - target) + torch.relu(low - expected)
    kind = FlopsLossType(kind)
    if kind is FlopsLossType.L2:
        loss = distance ** 2
    elif kind is FlopsLossType.L1:
        loss = distance
    elif kind is FlopsLossType.LOG_L1:
        loss = torch.log1p(distance)
    else:
        loss = -torch.log(1.0 / (1.0 + distance))
    return weight * loss

