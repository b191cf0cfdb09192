"""Classification heads for searchable models."""
from .linear_head_v2 import LinearClsHeadV2

__all__ = ["LinearClsHeadV2"]
