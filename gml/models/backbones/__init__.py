"""Searchable (slimmable) backbones; ``static=True`` builds a fixed subnet from plain torch modules.

``MobileNetV2Slice`` is mmcls's MobileNetV2 for DMCP pruning (no ``search_space``, no ``static``)."""
from .mobilenet_v2_slice import MobileNetV2Slice
from .mobilenet_v3_slice import MobileNetV3Slice
from .resnet_slice import ResNetSlice
from .shufflenet_v2_oneshot import ShuffleNetV2OneShot

__all__ = ["MobileNetV2Slice", "MobileNetV3Slice", "ResNetSlice", "ShuffleNetV2OneShot"]
