"""DigitsDataset: real digits, seeded stratified split, mmcls pipeline and evaluation."""
import numpy as np
import pytest
from mmcls.datasets import build_dataset

from gml.errors import GmlConfigError
from gml.models.datasets import DigitsDataset, load_digit_images

PIPELINE = [dict(type="Normalize", mean=[77.8] * 3, std=[82.4] * 3, to_rgb=False),
            dict(type="ImageToTensor", keys=["img"]), dict(type="ToTensor", keys=["gt_label"]),
            dict(type="Collect", keys=["img", "gt_label"])]


def _indices(ds):
    return [info["index"] for info in ds.data_infos]


def test_images_are_resized_real_digits():
    images, labels = load_digit_images(32, 3)
    assert images.shape == (1797, 32, 32, 3) and images.dtype == np.uint8
    assert labels.shape == (1797, ) and set(labels.tolist()) == set(range(10))
    assert (images[..., 0] == images[..., 2]).all() and images.max() == 255
    small, _ = load_digit_images(8, 1)
    assert small.shape == (1797, 8, 8, 1)


def test_split_is_disjoint_stratified_and_fixed_by_seed():
    train = DigitsDataset(pipeline=[], split="train", split_seed=0)
    val = DigitsDataset(pipeline=[], split="val", split_seed=0)
    assert len(train) + len(val) == 1797 and len(val) == 360
    assert not set(_indices(train)) & set(_indices(val))
    counts = np.bincount(val.get_gt_labels(), minlength=10)
    assert counts.min() >= 34 and counts.max() <= 38  # ~36 per class
    assert _indices(DigitsDataset(pipeline=[], split="val", split_seed=0)) == _indices(val)
    assert _indices(DigitsDataset(pipeline=[], split="val", split_seed=1)) != _indices(val)


def test_pipeline_and_evaluation_through_mmcls():
    ds = build_dataset(dict(type="gml.DigitsDataset", split="val", max_samples=20, pipeline=PIPELINE))
    item = ds[0]
    assert tuple(item["img"].shape) == (3, 32, 32) and int(item["gt_label"]) == ds.get_gt_labels()[0]
    perfect = np.eye(10)[ds.get_gt_labels()]
    result = ds.evaluate(perfect, metric="accuracy", metric_options=dict(topk=(1, 5)))
    assert result == {"accuracy_top-1": 100.0, "accuracy_top-5": 100.0}
    shifted = np.eye(10)[(ds.get_gt_labels() + 1) % 10]
    assert ds.evaluate(shifted, metric="accuracy", metric_options=dict(topk=(1, )))["accuracy_top-1"] == 0.0


@pytest.mark.parametrize("kwargs, key", [(dict(split="test"), "split"), (dict(val_fraction=1.5), "val_fraction"),
                                         (dict(channels=2), "channels"), (dict(max_samples=0), "max_samples"),
                                         (dict(image_size=0), "image_size")])
def test_bad_arguments_name_the_key(kwargs, key):
    with pytest.raises(GmlConfigError, match=f"DigitsDataset.{key}"):
        DigitsDataset(pipeline=[], **kwargs)
