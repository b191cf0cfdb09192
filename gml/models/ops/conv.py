"""``Conv2dSlice``: a 2-d convolution that runs any output width and any (odd) kernel size up to its maximum.

Regular convolutions slice ``weight[:out, :in]``; depthwise ones (``groups == in_channels == out_channels``)
slice ``weight[:c]`` and run with ``groups = c`` where ``c`` is the input width. A smaller kernel is the centre
crop of the largest kernel (BigNAS shares kernels this way); padding shrinks with the kernel so the output size
does not depend on the kernel choice.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from .base import DynamicOp, check_width, set_plain, weight_count, with_weights
from .slicing import sub_block


class Conv2dSlice(nn.Conv2d, DynamicOp):
    """Slimmable conv. ``active_out_channels`` / ``active_kernel_size`` select the running configuration.

    ``padding=None`` means "same" padding ``dilation * (k - 1) // 2`` for every kernel size ``k``.
    Grouped convolutions other than depthwise are not supported. Change the setting only through
    :meth:`set_active`: it also derives the kernel crop and padding that forward uses.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: Optional[int] = None, dilation: int = 1, groups: int = 1, bias: bool = False):
        if not isinstance(kernel_size, int) or kernel_size % 2 == 0:
            raise ValueError(f"Conv2dSlice needs an odd int kernel_size, got {kernel_size!r}")
        self.depthwise = groups > 1
        if self.depthwise and not groups == in_channels == out_channels:
            raise ValueError("Conv2dSlice supports groups=1 or depthwise (groups == in_channels == out_channels), "
                             f"got in={in_channels}, out={out_channels}, groups={groups}")
        if padding is None:
            padding = dilation * (kernel_size - 1) // 2
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                         dilation=dilation, groups=groups, bias=bias)
        self.active_out_channels = out_channels
        self._set_kernel(kernel_size)

    # --- configuration -------------------------------------------------------------------------------------
    @property
    def max_kernel_size(self) -> int:
        return self.kernel_size[0]

    def set_active(self, out_channels: Optional[int] = None, kernel_size: Optional[int] = None) -> None:
        """Choose the output width and/or kernel size (depthwise convs ignore ``out_channels``: they follow
        the input)."""
        if out_channels is not None:
            set_plain(self, active_out_channels=check_width("out_channels", int(out_channels), self.out_channels))
        if kernel_size is not None:
            k = int(kernel_size)
            if k % 2 == 0 or not 1 <= k <= self.max_kernel_size:
                raise ValueError(f"kernel_size must be odd and <= {self.max_kernel_size}, got {kernel_size!r}")
            self._set_kernel(k)

    def _set_kernel(self, k: int) -> None:
        # derived once per setting, not in every forward: where the centre crop starts and the padding that keeps
        # the output size of the largest kernel
        set_plain(self, active_kernel_size=k, _crop_start=(self.max_kernel_size - k) // 2,
                  _active_pad=self.padding[0] - self.dilation[0] * (self.max_kernel_size - k) // 2)

    def _active_padding(self) -> int:
        return self._active_pad

    def active_weight(self, in_channels: int, contiguous: bool = False):
        """(weight, bias, groups) used for an input of ``in_channels`` channels; with ``contiguous`` the weight is
        contiguous (a copy when the block cut from the full weight is not)."""
        check_width("input channels", in_channels, self.in_channels)
        if self.depthwise:
            out, channels_in, groups = in_channels, 1, in_channels
        else:
            out, channels_in, groups = self.active_out_channels, in_channels, 1
        k, start = self.active_kernel_size, self._crop_start  # a smaller kernel is the centre crop
        weight = sub_block(self.weight, (out, channels_in, k, k), (0, 0, start, start) if start else None,
                           contiguous)
        bias = self.bias
        if bias is not None:
            bias = sub_block(bias, (out,))
        return weight, bias, groups

    # --- running -------------------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # A slice of the input channels (or a cropped kernel) is a strided view; the convolution would make it
        # contiguous itself, once forward and once more backward. Once here serves both passes.
        weight, bias, groups = self.active_weight(x.shape[1], contiguous=True)
        return F.conv2d(x, weight, bias, self.stride, self._active_pad, self.dilation, groups)

    def active_out(self, in_channels: int) -> int:
        return in_channels if self.depthwise else self.active_out_channels

    def to_static(self, in_channels: Optional[int]) -> nn.Conv2d:
        weight, bias, groups = self.active_weight(in_channels)
        static = nn.Conv2d(in_channels, weight.shape[0], self.active_kernel_size, stride=self.stride,
                           padding=self._active_padding(), dilation=self.dilation, groups=groups,
                           bias=bias is not None)
        return with_weights(static, weight, bias)

    def active_param_count(self, in_channels: Optional[int]) -> int:
        weight, bias, _ = self.active_weight(in_channels)
        return weight_count(weight, bias)

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", active_out_channels={self.active_out_channels}, "
                f"active_kernel_size={self.active_kernel_size}")
