"""scikit-learn's bundled handwritten digits as an mmcls dataset (real data that needs no download).

``load_digits()`` ships 1,797 real 8x8 grey images of the digits 0-9 with scikit-learn. :class:`DigitsDataset`
scales them to 0-255 ``uint8``, optionally resizes them (bilinear) and repeats the grey channel, so that standard
backbones take them like any decoded image (``H x W x C``, as mmcls's ``LoadImageFromFile`` yields), and splits them
into train/val by a fixed seed (stratified by class, so both splits hold every digit in the same proportion).
mmcls's pipelines and ``evaluate`` (accuracy top-1/top-5, precision, recall, f1) apply unchanged.

Config::

    data = dict(train=dict(type='gml.DigitsDataset', split='train', image_size=32, channels=3, pipeline=[...]),
                val=dict(type='gml.DigitsDataset', split='val', image_size=32, channels=3, pipeline=[...]))
"""
from __future__ import annotations

import functools
from typing import Optional, Sequence

import cv2
import numpy as np
from mmcls.datasets import BaseDataset

from ...errors import GmlConfigError
from ..registry import DATASETS

SPLITS = ("train", "val", "all")
NUM_SAMPLES = 1797


@functools.lru_cache(maxsize=8)
def load_digit_images(image_size: int = 8, channels: int = 1):
    """All digits as ``uint8`` images of shape ``(N, image_size, image_size, channels)`` and ``int64`` labels.
    Cached per (size, channels); callers must not modify the arrays."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.clip(np.rint(bunch.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    if image_size != images.shape[1]:
        images = np.stack([cv2.resize(im, (image_size, image_size), interpolation=cv2.INTER_LINEAR) for im in images])
    images = np.repeat(images[..., None], channels, axis=-1)
    images.setflags(write=False)
    labels = bunch.target.astype(np.int64)
    labels.setflags(write=False)
    return images, labels


def split_indices(labels: np.ndarray, split: str, val_fraction: float, seed: int) -> np.ndarray:
    """Sample indices of ``split``: a stratified shuffle by ``seed``; 'all' keeps the original order."""
    if split == "all":
        return np.arange(len(labels))
    from sklearn.model_selection import train_test_split

    train, val = train_test_split(np.arange(len(labels)), test_size=val_fraction, stratify=labels, random_state=seed)
    return np.asarray(train if split == "train" else val)


@DATASETS.register_module()
class DigitsDataset(BaseDataset):
    """scikit-learn's digits (10 classes) with mmcls's pipeline and evaluation.

    Args:
        pipeline: mmcls transforms applied to ``dict(img=HxWxC uint8, gt_label=int64, ...)``.
        split: 'train', 'val' (a stratified ``val_fraction`` of the data chosen by ``split_seed``) or 'all'.
        val_fraction: share of the samples in 'val', in (0, 1).
        split_seed: seed of the train/val split; the same seed always yields the same split.
        image_size: side of the (square) images; 8 keeps the original resolution.
        channels: 1 (grey) or 3 (grey repeated, for backbones that expect RGB/BGR).
        max_samples: keep only the first ``max_samples`` of the split (quick runs and tests).
    """

    CLASSES = tuple(str(i) for i in range(10))

    def __init__(self, pipeline: Sequence[dict], split: str = "train", val_fraction: float = 0.2, split_seed: int = 0,
                 image_size: int = 32, channels: int = 3, max_samples: Optional[int] = None,
                 classes=None, test_mode: bool = False, data_prefix: str = ""):
        name = type(self).__name__
        if split not in SPLITS:
            raise GmlConfigError(f"{name}.split", f"must be one of {list(SPLITS)}, got {split!r}")
        if not 0.0 < float(val_fraction) < 1.0:
            raise GmlConfigError(f"{name}.val_fraction", f"must lie in (0, 1), got {val_fraction!r}")
        if not isinstance(image_size, int) or image_size < 1:
            raise GmlConfigError(f"{name}.image_size", f"must be a positive integer, got {image_size!r}")
        if channels not in (1, 3):
            raise GmlConfigError(f"{name}.channels", f"must be 1 or 3, got {channels!r}")
        if max_samples is not None and (not isinstance(max_samples, int) or max_samples < 1):
            raise GmlConfigError(f"{name}.max_samples", f"must be a positive integer or None, got {max_samples!r}")
        self.split = split
        self.val_fraction = float(val_fraction)
        self.split_seed = int(split_seed)
        self.image_size = image_size
        self.channels = channels
        self.max_samples = max_samples
        super().__init__(data_prefix=data_prefix, pipeline=pipeline, classes=classes, test_mode=test_mode)

    def load_annotations(self):
        images, labels = load_digit_images(self.image_size, self.channels)
        indices = split_indices(labels, self.split, self.val_fraction, self.split_seed)
        if self.max_samples is not None:
            indices = indices[: self.max_samples]
        shape = images.shape[1:]
        return [dict(img=images[i], gt_label=np.array(labels[i], dtype=np.int64), img_shape=shape, ori_shape=shape,
                     filename=f"digits/{int(i)}", ori_filename=f"digits/{int(i)}", index=int(i))
                for i in indices]
