"""The blocks of full-size weights that dynamic ops run on, and what their gradients cost.

:func:`sub_block` cuts a block (a slice in every dim) of a tensor as one view, or returns the tensor itself when
nothing is cut. Autograd's gradient of a view is a zero-filled full-size tensor holding the block's gradient,
which is then added, all of it, to the parameter's ``.grad``: about 8 operators per block in backward (12 for a
1x1 kernel). A training step that runs many subnets on shared weights (BigNAS's sandwich, DMCP's weight step)
runs each subnet within :func:`gradients_into_slices` instead: there a block of a parameter is a leaf of its own
and, when the subnet's backward is done, its gradient is added into just that block of the parameter's ``.grad``
(one view, one in-place add): no full-size gradient, no zero fill, no Python in backward.
"""
from __future__ import annotations

import contextlib
from typing import Iterator, List, Optional, Sequence, Tuple

import torch


class _Pending:
    """The parameter blocks cut within the innermost :func:`gradients_into_slices` (None outside): module state,
    set only by that context manager."""
    blocks: Optional[List[Tuple[torch.Tensor, torch.Tensor, Tuple[int, ...], Optional[Tuple[int, ...]]]]] = None


def _strided_block(tensor: torch.Tensor, sizes: Tuple[int, ...], starts: Optional[Tuple[int, ...]]) -> torch.Tensor:
    strides = tensor.stride()
    if starts is None:
        return tensor.as_strided(sizes, strides, tensor.storage_offset())
    offset = tensor.storage_offset()
    for start, stride in zip(starts, strides):
        offset += start * stride
    return tensor.as_strided(sizes, strides, offset)


def sub_block(tensor: torch.Tensor, sizes: Sequence[int], starts: Optional[Sequence[int]] = None,
              contiguous: bool = False) -> torch.Tensor:
    """``tensor[starts[0]:starts[0] + sizes[0], starts[1]:...]`` (``starts`` default to 0) as ONE view op, or
    ``tensor`` itself when the block is the whole tensor; with ``contiguous``, a block that is not contiguous comes
    as a contiguous copy (what a convolution would otherwise make itself, once forward and once more backward).

    What a dynamic op runs on: the block of its full weight. The result equals basic slicing, but slicing one dim
    after another costs an op per dim forward and, in backward, a full-size zero-filled gradient per dim;
    ``as_strided`` costs one of each, and the whole tensor costs nothing (its gradient flows straight into
    ``tensor.grad``). Within :func:`gradients_into_slices` a block of a parameter (a leaf that requires grad, with
    grad mode on) is a new leaf tensor holding the same values, whose gradient reaches the parameter on the
    context's exit. Gradients are bit-identical to those of slicing (the backward only copies and adds)."""
    if type(sizes) is not tuple:  # the dynamic ops pass tuples of ints: no conversion on their path
        sizes = tuple(map(int, sizes))
    if tensor.shape == sizes:
        return tensor
    if starts is not None and type(starts) is not tuple:  # None: the block starts at the tensor's start
        starts = tuple(starts)
    pending = _Pending.blocks
    if pending is not None and tensor.requires_grad and tensor.is_leaf and torch.is_grad_enabled():
        block = _strided_block(tensor.data, sizes, starts)
        if contiguous and not block.is_contiguous():  # two operators; .contiguous() dispatches four
            block = torch.empty(sizes, dtype=block.dtype, device=block.device).copy_(block)
        block.requires_grad_()
        pending.append((tensor, block, sizes, starts))
        return block
    block = _strided_block(tensor, sizes, starts)
    return block.contiguous() if contiguous and not block.is_contiguous() else block


@contextlib.contextmanager
def gradients_into_slices() -> Iterator[None]:
    """Within: every block :func:`sub_block` cuts from a parameter is a leaf of its own (the same values, no autograd
    link to the parameter); on a normal exit each such block's gradient (if it got one) is added into the same
    block of its parameter's ``.grad`` (a ``.grad`` that is None becomes zeros first), in the order the blocks were
    cut. After an exception nothing is added.

    Use it around ONE subnet's forward and ``loss.backward()``: the parameters' ``.grad`` then equal, value for
    value, what plain slicing accumulates (inside a block the same additions in the same order; outside it nothing
    is added instead of zeros, so a gradient of exactly -0.0 keeps its sign rather than becoming +0.0). Contract:
    within it, a parameter is cut into at most one block per backward pass (two blocks of one parameter would
    reach ``.grad`` one after the other instead of summed first: equal up to float rounding), the blocks'
    gradients come from ``backward()`` (``torch.autograd.grad`` asking for a parameter does not see its blocks),
    and nothing watches the parameters' gradient accumulation while it runs (hooks on the parameters, an armed
    DistributedDataParallel reducer): their gradients arrive only on exit, all at once."""
    previous, blocks = _Pending.blocks, []
    _Pending.blocks = blocks
    try:
        yield
    finally:
        _Pending.blocks = previous
    with torch.no_grad():
        for param, block, sizes, starts in blocks:
            grad = block.grad
            if grad is None:
                continue
            if param.grad is None:
                full = torch.zeros_like(param)
                _strided_block(full, sizes, starts).copy_(grad)
                param.grad = full
            else:
                _strided_block(param.grad, sizes, starts).add_(grad)
