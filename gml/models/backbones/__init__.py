"""Searchable (slimmable) backbones; ``static=True`` builds a fixed subnet from plain torch modules."""
from .mobilenet_v3_slice import MobileNetV3Slice
from .resnet_slice import ResNetSlice
from .shufflenet_v2_oneshot import ShuffleNetV2OneShot

__all__ = ["MobileNetV3Slice", "ResNetSlice", "ShuffleNetV2OneShot"]
