"""``NaiveEvaluator``: what a subnet costs and how well it does, on one process (built from a config's
``evaluator`` mapping by :func:`build_evaluator`; used by the subnet tools and ``DynamicDistEvalHook``).

- :meth:`complexity`: FLOPs (multiply-accumulates of convs and linear layers) and parameters of the model's
  current subnet for one input of ``default_shape`` (a ``ResizeSlice`` in the model still resizes it to the
  subnet's resolution), in ``units`` ('K', 'M', 'G' or None for raw counts);
- :meth:`accuracy`: the dataset's own ``evaluate`` (mmcls accuracy top-1/top-5) over a test data loader, so a
  score here equals what mmcls's test loop reports for the same weights.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional, Sequence

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DistributedSampler

from ..errors import GmlConfigError
from ..validation import Keyword, KeywordError, integer, invalid, one_of
from .ops import count_flops_params

_UNITS = {None: 1.0, "K": 1e3, "M": 1e6, "G": 1e9}


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside MMDataParallel / DistributedDataParallel wrappers."""
    while hasattr(model, "module") and isinstance(model.module, nn.Module):
        model = model.module
    return model


def classifier_of(model: nn.Module) -> nn.Module:
    """The classifier an algorithm wraps (``algorithm.model``), or the model itself."""
    model = unwrap(model)
    inner = getattr(model, "model", None)
    return inner if isinstance(inner, nn.Module) else model


class NaiveEvaluator:
    def __init__(self, units: Optional[str] = "M", default_shape: Sequence[int] = (1, 3, 224, 224),
                 metric: str = "accuracy", topk: Sequence[int] = (1, 5)):
        self.units = one_of(Keyword("units"), units, list(_UNITS))
        if not isinstance(default_shape, (list, tuple)) or len(default_shape) != 4:
            raise invalid(Keyword("default_shape"), default_shape, "(N, C, H, W)")
        self.default_shape = tuple(integer(Keyword(f"default_shape[{i}]"), v, least=1)
                                   for i, v in enumerate(default_shape))
        self.metric = metric
        self.topk = tuple(topk)

    def complexity(self, model: nn.Module) -> Dict[str, float]:
        """``{'flops': ..., 'params': ...}`` of the current subnet, per image, in ``units``."""
        classifier = classifier_of(model)
        param = next(classifier.parameters())
        img = torch.zeros(self.default_shape, device=param.device)
        was_training = classifier.training
        classifier.eval()
        try:
            flops, params = count_flops_params(classifier, img, forward=lambda x: classifier.simple_test(
                x, post_process=False))
        finally:
            classifier.train(was_training)
        scale = _UNITS[self.units]
        return {"flops": flops / self.default_shape[0] / scale, "params": params / scale}

    def predict(self, model: nn.Module, dataloader) -> list:
        """Per-sample class scores (numpy arrays), in dataset order, of ``model(img, return_loss=False)``.

        With a distributed sampler (a distributed training's validation loader), each process predicts its share
        and every process gets the whole dataset's scores (:func:`gather_in_dataset_order`)."""
        model = unwrap(model)
        was_training = model.training
        model.eval()
        device = next(model.parameters()).device
        results = []
        try:
            with torch.no_grad():
                for batch in dataloader:
                    img = batch["img"]
                    img = getattr(img, "data", img)
                    if isinstance(img, list):  # DataContainer
                        img = img[0]
                    results.extend(model(img=img.to(device), return_loss=False))
        finally:
            model.train(was_training)
        return gather_in_dataset_order(results, dataloader)

    def accuracy(self, model: nn.Module, dataloader) -> Dict[str, float]:
        """The dataset's ``evaluate`` of the predictions, e.g. ``{'accuracy_top-1': 97.2, 'accuracy_top-5': ...}``
        (percent, as mmcls reports)."""
        results = self.predict(model, dataloader)
        dataset = dataloader.dataset
        num_classes = len(results[0]) if results else 1
        topk = tuple(k for k in self.topk if k <= num_classes) or (1,)
        metrics = dataset.evaluate(np.stack(results), metric=self.metric, metric_options=dict(topk=topk))
        return {k: float(v) for k, v in metrics.items()}


def gather_in_dataset_order(results: list, dataloader) -> list:
    """``results`` of this process's share of ``dataloader``, joined with every other process's into the whole
    dataset's, in dataset order; ``results`` itself unless the loader's sampler is a ``DistributedSampler`` of a
    distributed run. Each process's share is placed by the dataset indices its sampler yields (the samples a
    sampler repeats to even out the shares are kept once)."""
    sampler = getattr(dataloader, "sampler", None)
    if not (isinstance(sampler, DistributedSampler) and dist.is_available() and dist.is_initialized()
            and dist.get_world_size() > 1):
        return results
    indices = list(iter(sampler))
    if len(indices) != len(results):
        raise RuntimeError(f"{len(results)} predictions for {len(indices)} samples of this process's share")
    shares: list = [None] * dist.get_world_size()
    dist.all_gather_object(shares, (indices, results))
    ordered: list = [None] * len(dataloader.dataset)
    for share_indices, share_results in shares:
        for index, result in zip(share_indices, share_results):
            ordered[index] = result
    missing = [i for i, result in enumerate(ordered) if result is None]
    if missing:
        raise RuntimeError(f"no process predicted dataset samples {missing[:5]} (of {len(missing)})")
    return ordered


_EVALUATORS = {"NaiveEvaluator": NaiveEvaluator, "gml.NaiveEvaluator": NaiveEvaluator}


def build_evaluator(cfg: Optional[Mapping]) -> NaiveEvaluator:
    """The evaluator of ``search_eval_cfg.evaluator`` (``dict(type='NaiveEvaluator', ...)``; None: the default)."""
    cfg = dict(cfg or dict(type="NaiveEvaluator"))
    kind = cfg.pop("type", "NaiveEvaluator")
    if kind not in _EVALUATORS:
        raise GmlConfigError("search_eval_cfg.evaluator.type", f"unknown evaluator {kind!r}; valid: NaiveEvaluator")
    try:
        return _EVALUATORS[kind](**cfg)
    except KeywordError as err:
        raise err.under("search_eval_cfg.evaluator") from None
