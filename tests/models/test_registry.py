"""Scoping of gml's mm registries: 'gml.X', 'mmcls.X' and unscoped names from every side."""
import mmcv
import pytest
from mmcls.datasets import build_dataset
from mmcls.models import build_classifier
from mmcls.models.builder import MODELS as MMCLS_MODELS
from mmcv.runner.hooks import HOOKS as MMCV_HOOKS
from torch import nn

import gml.models  # noqa: F401
from gml.models import registry


@registry.MODELS.register_module(force=True)
class _GmlTestNeck(nn.Module):
    """Registered only in gml's MODELS (scope gml)."""

    def forward(self, x):
        return x


def test_registries_are_children_of_mm_ones():
    assert registry.MODELS.scope == "gml"
    assert registry.MODELS.parent is MMCLS_MODELS
    assert MMCLS_MODELS.children["gml"] is registry.MODELS
    assert registry.HOOKS.parent is MMCV_HOOKS
    assert registry.DATASETS.parent.scope == "mmcls" and registry.PIPELINES.parent.scope == "mmcls"
    for alias in (registry.BACKBONES, registry.NECKS, registry.HEADS, registry.LOSSES, registry.CLASSIFIERS):
        assert alias is registry.MODELS


@pytest.mark.parametrize("key", ["ImageClassifier", "mmcls.ImageClassifier"])
def test_gml_models_resolves_mmcls_names(key):
    from mmcls.models.classifiers import ImageClassifier

    assert registry.MODELS.get(key) is ImageClassifier


def test_gml_names_resolve_in_gml_and_from_mmcls():
    assert registry.MODELS.get("_GmlTestNeck") is _GmlTestNeck
    assert registry.MODELS.get("gml._GmlTestNeck") is _GmlTestNeck
    assert MMCLS_MODELS.get("gml._GmlTestNeck") is _GmlTestNeck
    assert MMCLS_MODELS.get("_GmlTestNeck") is None  # unscoped names do not leak into mmcls
    # Another OpenMMLab package's registry (a sibling of mmcls's under mmcv's root) reaches gml too.
    other = mmcv.utils.Registry("models", parent=MMCLS_MODELS.parent, scope="_gml_test_other")
    assert other.get("gml._GmlTestNeck") is _GmlTestNeck


def test_gml_component_inside_mmcls_classifier():
    model = build_classifier(dict(
        type="ImageClassifier", backbone=dict(type="ResNet_CIFAR", depth=18, base_channels=8, stem_channels=8),
        neck=dict(type="gml._GmlTestNeck"), head=dict(type="LinearClsHead", num_classes=10, in_channels=64)))
    assert isinstance(model.neck, _GmlTestNeck)


def test_unknown_names_fail_clearly():
    assert registry.MODELS.get("gml.ImageClassifier") is None  # a scoped name looks in that scope only
    assert registry.MODELS.get("nosuchscope.X") is None  # no AttributeError from mmcv's root walk
    with pytest.raises(KeyError, match="NoSuchModel is not in the models registry"):
        registry.MODELS.build(dict(type="NoSuchModel"))


def test_dataset_and_hook_scopes():
    dataset = build_dataset(dict(type="gml.DigitsDataset", split="val", max_samples=4, pipeline=[]))
    assert len(dataset) == 4
    assert registry.DATASETS.get("DigitsDataset") is type(dataset)
    assert registry.DATASETS.get("mmcls.ImageNet") is not None
    hook = mmcv.build_from_cfg(dict(type="gml.GmlReportHook"), MMCV_HOOKS, dict(interval=5))
    assert type(hook).__name__ == "GmlReportHook" and hook.interval == 5
    assert registry.HOOKS.get("mmcv.CheckpointHook") is MMCV_HOOKS.get("CheckpointHook")
    assert registry.HOOKS.get("CheckpointHook") is MMCV_HOOKS.get("CheckpointHook")
