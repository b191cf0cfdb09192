"""Subnets of a trained supernet: score one (BN recalibration + accuracy + FLOPs/params) and export one as a plain
mmcls model (config + checkpoint holding the sliced weights).

Used by :class:`~gml.models.hooks.DynamicDistEvalHook` during training, ``tools/search_subnet.py`` and
``tools/export_subnet.py``. ``algorithm`` below is a built ``gml.BigNAS`` (it holds ``mutator`` and ``model``).
"""
from __future__ import annotations

import copy
from typing import Any, Dict, Optional

import torch
from torch import nn

from ..errors import GmlConfigError
from .builder import build_algorithm
from .evaluation import NaiveEvaluator, build_evaluator, classifier_of, unwrap
from .ops import recalibrate_bn, to_static_model


def bn_buffers(model: nn.Module) -> Dict[str, torch.Tensor]:
    """A copy of every BatchNorm buffer (running stats), to put back with :func:`restore_buffers`."""
    return {name: buf.detach().clone() for name, buf in model.named_buffers()
            if name.rsplit(".", 1)[-1] in ("running_mean", "running_var", "num_batches_tracked")}


def restore_buffers(model: nn.Module, saved: Dict[str, torch.Tensor]) -> None:
    buffers = dict(model.named_buffers())
    with torch.no_grad():
        for name, value in saved.items():
            buffers[name].copy_(value)


def calibrate(algorithm: nn.Module, loader, num_iters: int = -1) -> int:
    """Recalibrate the BatchNorm statistics of the active subnet on ``loader``'s images (see
    :func:`gml.models.ops.recalibrate_bn`). Returns the number of batches used."""
    classifier = classifier_of(algorithm)
    device = next(classifier.parameters()).device

    def forward(batch):
        img = batch["img"]
        img = getattr(img, "data", img)
        if isinstance(img, list):
            img = img[0]
        classifier.extract_feat(img.to(device))

    return recalibrate_bn(classifier, loader, forward, num_iters)


def calibrate_active(algorithm: nn.Module, loader, num_iters: int = -1) -> int:
    """Recalibrate the active subnet's BatchNorm statistics as a scored subnet's are: subnet-dependent
    regularisation (dropout, drop-path) off, then :func:`calibrate`. Returns the number of batches used."""
    algorithm = unwrap(algorithm)
    algorithm.set_regularization(False)
    return calibrate(algorithm, loader, num_iters)


def score_subnet(algorithm: nn.Module, choice: Dict[str, Any], evaluator: NaiveEvaluator, val_loader,
                 calib_loader, num_iters: int = -1) -> Dict[str, float]:
    """Set ``choice``, recalibrate BN on ``calib_loader``, and return accuracy metrics + ``flops`` + ``params``.
    The subnet's recalibrated statistics stay in the model (callers restore them with :func:`bn_buffers`)."""
    algorithm = unwrap(algorithm)
    algorithm.mutator.set_choice(choice)
    algorithm.set_regularization(False)
    scores = dict(evaluator.complexity(algorithm))
    if calib_loader is not None:
        calibrate_active(algorithm, calib_loader, num_iters)
    scores.update(evaluator.accuracy(algorithm, val_loader))
    return scores


# --- export ----------------------------------------------------------------------------------------------------
def _static_pipeline(pipeline: list, resolution: Optional[int]) -> list:
    """``pipeline`` with a ``Resize`` to ``resolution`` right after its ``Normalize`` (at the start when there is
    none). Resizing the normalised float image with cv2's bilinear filter computes what ``ResizeSlice`` computes
    (half-pixel centres, no antialiasing), without the rounding a resize of the uint8 image would add."""
    pipeline = copy.deepcopy(list(pipeline))
    if resolution is None:
        return pipeline
    index = next((i + 1 for i, step in enumerate(pipeline)
                  if step.get("type", "").split(".")[-1] == "Normalize"), 0)
    pipeline.insert(index, dict(type="Resize", size=(resolution, resolution), interpolation="bilinear",
                                backend="cv2"))
    return pipeline


def static_model_cfg(model_cfg: dict, algorithm: nn.Module, choice: Dict[str, Any]) -> dict:
    """A plain ``mmcls.ImageClassifier`` config of ``choice``: the backbone built ``static=True`` with the chosen
    values as its only choices (plain torch modules), the neck as is, ``mmcls.LinearClsHead`` on the subnet's
    width."""
    classifier = classifier_of(algorithm)
    backbone = dict(copy.deepcopy(model_cfg["backbone"]))
    backbone["search_space"] = copy.deepcopy(choice["backbone"])
    backbone["static"] = True
    head_cfg = dict(model_cfg["head"])
    head = dict(type="mmcls.LinearClsHead", num_classes=head_cfg["num_classes"],
                in_channels=classifier.backbone.feat_dim)
    for key in ("loss", "topk", "cal_acc"):
        if key in head_cfg:
            head[key] = copy.deepcopy(head_cfg[key])
    static = dict(type="mmcls.ImageClassifier", backbone=backbone, head=head)
    if model_cfg.get("neck") is not None:
        static["neck"] = copy.deepcopy(model_cfg["neck"])
    return static


def export_subnet(cfg, algorithm: nn.Module, choice: Dict[str, Any], input_size: int):
    """(plain mmcls config, state dict) of ``choice`` of the built ``algorithm`` (its BN statistics as they are
    now: calibrate first). ``cfg`` is the supernet's ``mmcv.Config``; the returned config keeps its data, schedule
    and runtime, drops ``algorithm``/``search_eval_cfg``, restores an ``optimizer_config`` and imports
    ``gml.models`` (``custom_imports``) for the static backbone class. When the subnet's resolution differs from
    ``input_size`` (the pipeline's image size), a ``Resize`` joins the train/val/test pipelines."""
    from mmcv import Config

    algorithm = unwrap(algorithm)
    algorithm.mutator.set_choice(choice)
    algorithm.set_regularization(False)
    classifier = copy.deepcopy(classifier_of(algorithm)).eval()
    example = torch.zeros(1, 3, input_size, input_size, device=next(classifier.parameters()).device)
    to_static_model(TestForward(classifier), example)
    state = {k: v.detach().cpu() for k, v in classifier.state_dict().items()}

    plain = copy.deepcopy(cfg._cfg_dict.to_dict())
    model_cfg = plain.pop("algorithm")["model"]
    plain.pop("search_eval_cfg", None)
    if hasattr(algorithm, "plain_model_cfg"):  # an algorithm with its own plain form (gml.DMCP)
        plain["model"] = algorithm.plain_model_cfg(choice)
    else:
        plain["model"] = static_model_cfg(model_cfg, algorithm, choice)
    plain["optimizer_config"] = dict(grad_clip=None)
    imports = list((plain.get("custom_imports") or {}).get("imports", []))
    plain["custom_imports"] = dict(imports=sorted(set(imports) | {"gml.models"}), allow_failed_imports=False)
    resolution = choice.get("resize_process", {}).get("resolution")
    if resolution is not None and resolution != input_size:
        for split in ("train", "val", "test"):
            if split in plain.get("data", {}) and "pipeline" in plain["data"][split]:
                plain["data"][split]["pipeline"] = _static_pipeline(plain["data"][split]["pipeline"], resolution)
    plain["subnet"] = copy.deepcopy(choice)  # provenance; ignored by mmcls
    return Config(plain), state


class TestForward(nn.Module):
    """Runs a classifier's test path (resize -> backbone -> neck -> head) so every op is traced."""

    def __init__(self, classifier: nn.Module):
        super().__init__()
        self.classifier = classifier

    def forward(self, img):
        return self.classifier.simple_test(img, post_process=False)


# --- loading a trained supernet (tools) --------------------------------------------------------------------------
def load_supernet(cfg, checkpoint: Optional[str], device: str = "cpu"):
    """The built ``cfg.algorithm`` (any ``mutable_cfg`` dropped: tools choose subnets) with ``checkpoint``'s weights,
    in eval mode on ``device``."""
    from mmcv.runner import load_checkpoint

    algorithm_cfg = copy.deepcopy(cfg.get("algorithm"))
    if algorithm_cfg is None:
        raise GmlConfigError("algorithm", "the config has no 'algorithm' (a gml.BigNAS or gml.DMCP supernet) to search")
    algorithm_cfg.pop("mutable_cfg", None)
    if not algorithm_cfg.get("retraining"):
        algorithm_cfg.pop("channel_cfg", None)  # a DMCP supernet's structure to test: tools choose their own
    algorithm = build_algorithm(algorithm_cfg)
    if checkpoint:
        load_checkpoint(algorithm, checkpoint, map_location="cpu", strict=True, logger="silent")
    return algorithm.to(device).eval()


def build_loaders(cfg):
    """(validation loader, calibration loader): the calibration loader reads the *training* split through the test
    pipeline in a fixed order, so BN recalibration is deterministic (the same statistics in search and export)."""
    from mmcls.datasets import build_dataset

    return _fixed_order_loader(cfg, build_dataset(cfg.data.val, dict(test_mode=True))), build_calib_loader(cfg)


def build_calib_loader(cfg):
    """The loader BatchNorm recalibration reads: the training split through the validation pipeline, in a fixed
    order, in one process (every process of a distributed run computes the same statistics)."""
    from mmcls.datasets import build_dataset

    calib_cfg = copy.deepcopy(cfg.data.train)
    calib_cfg["pipeline"] = copy.deepcopy(cfg.data.val.pipeline)
    return _fixed_order_loader(cfg, build_dataset(calib_cfg))


def _fixed_order_loader(cfg, dataset):
    from mmcls.datasets import build_dataloader

    pin_memory = cfg.data.get("pin_memory", torch.cuda.is_available())    # pinning only helps copies to a GPU
    return build_dataloader(dataset, samples_per_gpu=cfg.data.get("samples_per_gpu", 64),
                            workers_per_gpu=cfg.data.get("workers_per_gpu", 0), dist=False, shuffle=False,
                            round_up=False, persistent_workers=False, pin_memory=pin_memory)


def evaluator_from_cfg(cfg) -> NaiveEvaluator:
    evaluator_cfg = (cfg.get("search_eval_cfg") or {}).get("evaluator")
    return build_evaluator(evaluator_cfg)
