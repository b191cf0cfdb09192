"""FLOPs and parameter count of a model at its current setting (dynamic or static), by one forward pass.

Convention (stated, and what the tests hand-count): FLOPs are multiply-accumulates of convolutions and linear
layers (``out_h * out_w * out_c * in_c / groups * k * k`` per image, ``in * out`` for linear; biases,
normalisation, activations and pooling are not counted). Params are the parameters of the modules that ran,
counted at their active slice, so a dynamic model's count equals its static export's ``sum(p.numel())``.
"""
from __future__ import annotations

from typing import Callable, Optional, Tuple

import torch
from torch import nn

from .base import DynamicOp
from .conv import Conv2dSlice
from .linear import LinearSlice


def _conv_macs(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    if isinstance(module, Conv2dSlice):
        weight, _, _ = module.active_weight(inp.shape[1])
    else:
        weight = module.weight
    per_output = weight.shape[1] * weight.shape[2] * weight.shape[3]
    return out.shape[1] * out.shape[2] * out.shape[3] * per_output


def _linear_macs(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    rows = out.numel() // out.shape[-1]
    return rows * inp.shape[-1] * out.shape[-1]


def count_flops_params(model: nn.Module, *inputs, forward: Optional[Callable] = None, **kwargs) -> Tuple[int, int]:
    """(MACs for the batch ``inputs``, parameter count) of ``model(*inputs, **kwargs)`` (or of
    ``forward(*inputs, **kwargs)`` when given, e.g. ``model.simple_test``). MACs add up over every call of a
    module; its parameters count once. The model's mode is left as it was."""
    totals = {"flops": 0}
    params = {}
    handles = []

    def hook(module, args, out):
        inp = args[0]
        if isinstance(module, (nn.Conv2d, Conv2dSlice)):
            totals["flops"] += _conv_macs(module, inp, out)
        elif isinstance(module, (nn.Linear, LinearSlice)):
            totals["flops"] += _linear_macs(module, inp, out)
        if module not in params:
            if isinstance(module, DynamicOp):
                width = inp.shape[-1] if isinstance(module, nn.Linear) else (inp.shape[1] if inp.dim() > 1 else None)
                params[module] = module.active_param_count(width)
            else:
                params[module] = sum(p.numel() for p in module.parameters(recurse=False))

    for module in model.modules():
        if isinstance(module, DynamicOp) or any(True for _ in module.parameters(recurse=False)):
            handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            (forward or model)(*inputs, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    return totals["flops"], sum(params.values())
