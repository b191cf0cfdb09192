"""The contract of gml's dynamic (slimmable) ops.

A dynamic op holds the weights of its largest configuration. What it runs is chosen by its ``active_*``
attributes (output width, kernel size, depth, resolution), which the owner of the op (a searchable backbone's
``set_choice``) sets; the input width is taken from the input tensor, so one op serves every width of the layer
before it. ``to_static(in_channels)`` returns a plain torch module holding copies of the weights the op uses at
its current setting; it computes exactly what the dynamic op computes.

Ops are not thread-safe: the active setting is module state, shared by every forward that runs on the module.
"""
from __future__ import annotations

import abc
from typing import Dict, Optional

import torch
from torch import nn


class DynamicOp(abc.ABC):
    """Mixin marking a dynamic op. Subclasses implement ``to_static`` and ``active_param_count``."""

    @abc.abstractmethod
    def to_static(self, in_channels: Optional[int]) -> nn.Module:
        """A plain module with copies of the weights in use at the current setting."""

    @abc.abstractmethod
    def active_param_count(self, in_channels: Optional[int]) -> int:
        """Parameters in use at the current setting."""


def check_width(name: str, value: int, maximum: int) -> int:
    if not isinstance(value, int) or not 1 <= value <= maximum:
        raise ValueError(f"{name} must be an int in [1, {maximum}], got {value!r}")
    return value


def set_plain(module: nn.Module, **values) -> None:
    """Set plain (not tensor, not module) attributes of ``module`` straight in its ``__dict__``.

    For the per-subnet settings (``active_*`` and what is derived from them) that a sandwich step sets on every
    dynamic op several times a step: ``nn.Module.__setattr__`` first checks whether each value is a parameter, a
    buffer or a module (a few microseconds an attribute). Only for names that are never a parameter, buffer or
    submodule of ``module``."""
    module.__dict__.update(values)


def trace_input_widths(model: nn.Module, *inputs, **kwargs) -> Dict[nn.Module, int]:
    """Run ``model(*inputs, **kwargs)`` once without gradients and return, for every dynamic op that ran, the
    channel count of its input (dim 1). The model's train/eval mode is left as it was."""
    widths: Dict[nn.Module, int] = {}
    handles = []
    for module in model.modules():
        if isinstance(module, DynamicOp):
            handles.append(module.register_forward_pre_hook(
                lambda mod, args: widths.__setitem__(mod, args[0].shape[1] if args[0].dim() > 1 else None)))
    try:
        with torch.no_grad():
            model(*inputs, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    return widths


def _replace(parent: nn.Module, widths: Dict[nn.Module, int]) -> None:
    for name, child in list(parent.named_children()):
        if isinstance(child, DynamicOp):
            if child not in widths:
                # Not run at the current setting: a skipped block's op, or a dynamic container
                # whose own forward ran (containers record their width too). Drop unused ops.
                setattr(parent, name, nn.Identity())
                continue
            static = child.to_static(widths[child])
            if static is not child:
                _replace(static, widths)
            setattr(parent, name, static)
        else:
            _replace(child, widths)


def to_static_model(model: nn.Module, *inputs, **kwargs) -> nn.Module:
    """Convert every dynamic op in ``model`` (in place) to its static equivalent at the current setting.

    ``inputs`` is an example input that runs the model (its shape fixes the width seen by the first op); ops that
    do not run at the current setting are replaced by ``nn.Identity``. Returns ``model``."""
    widths = trace_input_widths(model, *inputs, **kwargs)
    _replace(model, widths)
    return model


class DeviceConstants:
    """Constant tensors built from python numbers once per (name, device, dtype) they are asked for, so a hot
    path does not copy the same numbers to the device on every call and a module moved to another device or
    dtype gets fresh ones."""

    def __init__(self):
        self._built: Dict[tuple, torch.Tensor] = {}

    def get(self, name: str, values, like: torch.Tensor) -> torch.Tensor:
        """``torch.tensor(values)`` on ``like``'s device and dtype (built on the first call for them)."""
        key = (name, like.device, like.dtype)
        tensor = self._built.get(key)
        if tensor is None:
            tensor = self._built[key] = torch.tensor(values, device=like.device, dtype=like.dtype)
        return tensor


def with_weights(static: nn.Module, weight: torch.Tensor, bias: Optional[torch.Tensor]) -> nn.Module:
    """``static`` (a freshly built plain module) holding copies of ``weight`` and ``bias``, on their device."""
    with torch.no_grad():
        static.weight.copy_(weight)
        if bias is not None:
            static.bias.copy_(bias)
    return static.to(weight.device)


def weight_count(weight: torch.Tensor, bias: Optional[torch.Tensor]) -> int:
    return weight.numel() + (bias.numel() if bias is not None else 0)
