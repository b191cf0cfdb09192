"""``BatchNorm2dSlice``: batch norm over the first ``c`` channels of its largest configuration, ``c`` being the
input width. Running statistics of the sliced channels are updated in place in the shared buffers, so a
recalibration pass (``gml.models.ops.bn_calib``) at one subnet leaves exactly that subnet's statistics."""
from __future__ import annotations

import contextlib
from typing import Iterator, Optional

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _NormBase

from .base import DynamicOp, check_width
from .slicing import sub_block


class BatchNorm2dSlice(nn.BatchNorm2d, DynamicOp):
    #: Optional callable returning a per-channel multiplier of the output (or None): DMCP's architecture pass
    #: folds its keep probabilities into the affine parameters this way, storing no extra activation.
    output_scale = None
    #: True: a training-mode forward normalises with the batch statistics as always but leaves the running
    #: statistics and ``num_batches_tracked`` untouched (DMCP's architecture pass), with no copy to restore.
    freeze_stats = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Each parameter and buffer is read once: they go through nn.Module.__getattr__, a Python call each.
        size = (check_width("input channels", x.shape[1], self.num_features),)
        training = self.training
        frozen = training and self.freeze_stats
        momentum = 0.0 if self.momentum is None else self.momentum
        if training and self.track_running_stats and not frozen:
            tracked = self.num_batches_tracked
            tracked.add_(1)
            if self.momentum is None:  # cumulative moving average (used by BN recalibration)
                momentum = 1.0 / float(tracked)
        running_mean, running_var = self.running_mean, self.running_var
        use_batch_stats = training or running_mean is None
        if (not training or self.track_running_stats) and running_mean is not None and not frozen:
            running_mean, running_var = sub_block(running_mean, size), sub_block(running_var, size)
        else:
            running_mean = running_var = None
        weight = bias = None
        if self.affine:
            weight, bias = sub_block(self.weight, size), sub_block(self.bias, size)
        scale = self.output_scale() if self.output_scale is not None else None
        if scale is not None:
            scale = sub_block(scale, size)
        if scale is not None and self.affine:
            weight, bias = weight * scale, bias * scale
        out = F.batch_norm(x, running_mean, running_var, weight, bias, use_batch_stats, momentum, self.eps)
        return out * scale.view(1, -1, 1, 1) if scale is not None and not self.affine else out

    def to_static(self, in_channels: Optional[int]) -> nn.BatchNorm2d:
        c = check_width("input channels", in_channels, self.num_features)
        static = nn.BatchNorm2d(c, eps=self.eps, momentum=self.momentum, affine=self.affine,
                                track_running_stats=self.track_running_stats)
        with torch.no_grad():
            if self.affine:
                static.weight.copy_(self.weight[:c])
                static.bias.copy_(self.bias[:c])
            if self.track_running_stats:
                static.running_mean.copy_(self.running_mean[:c])
                static.running_var.copy_(self.running_var[:c])
                static.num_batches_tracked.copy_(self.num_batches_tracked)
        static.train(self.training)
        return static.to(self.running_mean.device if self.running_mean is not None else "cpu")

    def active_param_count(self, in_channels: Optional[int]) -> int:
        return 2 * in_channels if self.affine else 0


@contextlib.contextmanager
def frozen_running_stats(model: nn.Module) -> Iterator[None]:
    """Within: training-mode forwards of ``model`` normalise with batch statistics as usual but leave every
    BatchNorm's running statistics (and ``num_batches_tracked``) as they were on entry. ``BatchNorm2dSlice``
    modules simply skip the update (``freeze_stats``); any other BatchNorm's buffers are saved on entry and put
    back on exit."""
    slices = [m for m in model.modules() if isinstance(m, BatchNorm2dSlice)]
    others = [m for m in model.modules() if isinstance(m, _NormBase) and not isinstance(m, BatchNorm2dSlice)]
    saved = [(buffer, buffer.detach().clone()) for module in others for buffer in module.buffers(recurse=False)]
    for module in slices:
        module.freeze_stats = True
    try:
        yield
    finally:
        for module in slices:
            module.freeze_stats = False
        with torch.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)
