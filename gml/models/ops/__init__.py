"""Slimmable / dynamic ops: one set of shared weights runs every width, kernel size, depth and resolution of a
search space; ``to_static`` turns an op (``to_static_model`` a whole model) into plain torch modules."""
from .base import DeviceConstants, DynamicOp, to_static_model, trace_input_widths
from .bn_calib import recalibrate_bn
from .conv import Conv2dSlice
from .flops import count_flops_params
from .linear import LinearSlice
from .norm import BatchNorm2dSlice, frozen_running_stats
from .resize import ResizeSlice
from .se import SELayerSlice, make_divisible
from .sequential import DropPath, DynamicSequential
from .slicing import gradients_into_slices, sub_block

from ..registry import MODELS as _MODELS

# Built from configs: ``resize_process=dict(type='ResizeSlice', resolution=...)``.
_MODELS.register_module(module=ResizeSlice)

__all__ = ["BatchNorm2dSlice", "Conv2dSlice", "DeviceConstants", "DropPath", "DynamicOp", "DynamicSequential",
           "LinearSlice", "ResizeSlice", "SELayerSlice", "count_flops_params", "frozen_running_stats",
           "gradients_into_slices", "make_divisible", "recalibrate_bn", "sub_block", "to_static_model",
           "trace_input_widths"]
