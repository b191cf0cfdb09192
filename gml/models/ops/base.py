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
import contextlib
from typing import Dict, Iterator, Optional, Sequence, Tuple

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


class _Slicing:
    """Whether :func:`sub_block` sends sliced parameters' gradients straight into ``.grad`` (see
    :func:`gradients_into_slices`); module state, set only by that context manager."""
    direct = False


@contextlib.contextmanager
def gradients_into_slices() -> Iterator[None]:
    """Within: a block :func:`sub_block` cuts from a parameter (a leaf tensor that requires grad, with grad mode on)
    accumulates its gradient in backward straight into that block of ``param.grad`` (one view and one in-place add;
    a ``param.grad`` that is still None becomes zeros first) instead of through autograd's gradient of
    ``as_strided``, which builds a zero-filled full-size gradient per block and adds all of it to ``param.grad``
    (about 8 operators a block, 12 for 1x1 kernels).

    The gradients are the same values: inside the block the same additions in the same order, outside it nothing
    is added instead of zeros (so a gradient of exactly -0.0 keeps its sign rather than becoming +0.0). Contract,
    for the code that trains within it (BigNAS's sandwich, DMCP's weight step): each backward pass of a graph built
    within it runs ``loss.backward()`` into ``.grad`` (no ``torch.autograd.grad`` asking for the weights, no
    ``create_graph``), uses a parameter through at most one block per backward, and nothing watches the
    parameters' gradient accumulation (no DistributedDataParallel reducer armed, no hooks on the parameters): none
    of those see these blocks' gradients. Which path a block takes is fixed when the forward cuts it."""
    previous, _Slicing.direct = _Slicing.direct, True
    try:
        yield
    finally:
        _Slicing.direct = previous


class _BlockOfParameter(torch.autograd.Function):
    """``param.as_strided(sizes, strides, offset)`` (a contiguous copy of it with ``contiguous``) whose backward
    adds the incoming gradient into the same block of ``param.grad`` and returns no gradient for ``param``."""

    @staticmethod
    def forward(ctx, param, sizes, starts, contiguous):
        ctx.param, ctx.sizes, ctx.starts = param, sizes, starts
        ctx.set_materialize_grads(False)
        block = _strided_block(param, sizes, starts)
        return block.clone(memory_format=torch.contiguous_format) if contiguous and not block.is_contiguous() \
            else block

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        if grad is not None:
            param = ctx.param
            if param.grad is None:
                full = torch.zeros_like(param)
                _strided_block(full, ctx.sizes, ctx.starts).copy_(grad)
                param.grad = full
            else:
                _strided_block(param.grad, ctx.sizes, ctx.starts).add_(grad)
        return None, None, None, None


def _strided_block(tensor: torch.Tensor, sizes: Tuple[int, ...], starts: Tuple[int, ...]) -> torch.Tensor:
    strides = tensor.stride()
    offset = tensor.storage_offset() + sum(start * stride for start, stride in zip(starts, strides))
    return tensor.as_strided(sizes, strides, offset)


def sub_block(tensor: torch.Tensor, sizes: Sequence[int], starts: Optional[Sequence[int]] = None,
              contiguous: bool = False) -> torch.Tensor:
    """``tensor[starts[0]:starts[0] + sizes[0], starts[1]:...]`` (``starts`` default to 0) as ONE view op, or
    ``tensor`` itself when the block is the whole tensor; with ``contiguous``, a block that is not contiguous comes
    as a contiguous copy (what a convolution would otherwise make itself, once forward and once more backward).

    What a dynamic op runs on: the slice of its full weight. The result equals basic slicing, but slicing one dim
    after another costs an op per dim forward and, in backward, a full-size zero-filled gradient per dim;
    ``as_strided`` costs one of each, and the whole tensor costs nothing (its gradient flows straight into
    ``tensor.grad``). Within :func:`gradients_into_slices` a block of a parameter costs no full-size gradient at
    all. Gradients are bit-identical to those of slicing (the backward only copies and adds)."""
    sizes = tuple(int(size) for size in sizes)
    starts = tuple(starts) if starts is not None else (0,) * len(sizes)
    if sizes == tuple(tensor.shape):
        return tensor
    if _Slicing.direct and tensor.requires_grad and tensor.is_leaf and torch.is_grad_enabled():
        return _BlockOfParameter.apply(tensor, sizes, starts, contiguous)
    block = _strided_block(tensor, sizes, starts)
    return block.contiguous() if contiguous and not block.is_contiguous() else block


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
