"""Searchable (slimmable) backbones; ``static=True`` builds a fixed subnet from plain torch modules."""
from .mobilenet_v3_slice import MobileNetV3Slice
from .resnet_slice import ResNetSlice

__all__ = ["MobileNetV3Slice", "ResNetSlice"]
