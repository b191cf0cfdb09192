"""Classifiers over searchable backbones."""
from .image_search import ImageClassifierSearch

__all__ = ["ImageClassifierSearch"]
