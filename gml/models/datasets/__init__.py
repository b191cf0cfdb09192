"""Datasets for mm training, registered in gml's DATASETS (children of mmcls's)."""
from .digits import DigitsDataset, load_digit_images

__all__ = ["DigitsDataset", "load_digit_images"]
