"""``DynamicDistEvalHook``: during supernet training, evaluate the largest and smallest subnets (and any
configured ones), each after recalibrating its BatchNorm statistics on training batches.

Config (top-level ``search_eval_cfg``, which tools/train.py registers with the validation loader)::

    search_eval_cfg = dict(
        type='DynamicDistEvalHook',
        evaluator=dict(type='NaiveEvaluator', units='M', default_shape=(1, 3, 224, 224)),
        bn_stats_calib_kwargs=dict(num_iters=-1, sync_params=True),
        subnets=None,        # optional: extra subnets, {name: subnet YAML path or dict}
        interval=1)

For each subnet ``name`` (``max``, ``min``, then the configured ones; an algorithm may name its own: gml.DMCP
reports ``max``, ``min`` and ``expected``, its expected structure; only ``subnet`` when ``algorithm.mutable_cfg``
fixes one or a pruned network is retrained) it logs ``<name>.accuracy_top-1`` (and the
other metrics), ``<name>.flops`` and ``<name>.params`` to the runner's log buffer (text / TensorBoard loggers) and
reports them to gml (``gml.report``, a no-op outside a search). The supernet's own BatchNorm statistics are put
back afterwards, so evaluating does not change training. ``num_iters=-1`` calibrates on the whole training epoch;
``sync_params`` averages the recalibrated statistics across processes when training is distributed (both checked
by :mod:`gml.models.bn_calib_settings`; the subnet tools take the same ``num_iters`` as their default).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, Optional

import torch
import torch.distributed as dist
from mmcv.runner import Hook

from ...errors import GmlConfigError
from ...reporting import report
from ..bn_calib_settings import parse_calib_kwargs
from ..evaluation import build_evaluator, unwrap
from ..mutators import load_choice
from ..registry import HOOKS
from ..subnet import bn_buffers, calibrate, restore_buffers
from ..subnet_search import reference_choices

@HOOKS.register_module()
class DynamicDistEvalHook(Hook):
    def __init__(self, dataloader=None, evaluator: Optional[dict] = None, interval: int = 1,
                 bn_stats_calib_kwargs: Optional[dict] = None, subnets: Optional[Dict[str, Any]] = None,
                 by_epoch: bool = True, gpu_collect: bool = False, **unused: Any):
        if dataloader is None:
            raise GmlConfigError("search_eval_cfg", "needs the validation data loader (tools/train.py passes it "
                                                    "when it registers search_eval_cfg)")
        self.dataloader = dataloader
        self.evaluator = build_evaluator(evaluator)
        self.interval = int(interval)
        calib = parse_calib_kwargs(bn_stats_calib_kwargs)
        self.calib_iters = calib.num_iters
        self.sync_params = calib.sync_params
        self.subnets = dict(subnets or {})
        self.by_epoch = by_epoch
        self.last_scores: "OrderedDict[str, Dict[str, float]]" = OrderedDict()

    def after_train_epoch(self, runner) -> None:
        if self.by_epoch and self.every_n_epochs(runner, self.interval):
            self.evaluate(runner, step=runner.epoch + 1)

    def after_train_iter(self, runner) -> None:
        if not self.by_epoch and self.every_n_iters(runner, self.interval):
            self.evaluate(runner, step=runner.iter + 1)

    def _sync(self, model) -> None:
        if not (self.sync_params and dist.is_available() and dist.is_initialized()):
            return
        world = dist.get_world_size()
        for name, buf in model.named_buffers():
            if name.endswith(("running_mean", "running_var")):
                dist.all_reduce(buf)
                buf.div_(world)

    def subnet_choices(self, algorithm) -> "OrderedDict[str, dict]":
        """``max`` and ``min`` then the configured subnets; only ``subnet`` (the fixed one) when the algorithm
        trains a fixed subnet (``mutable_cfg``)."""
        if getattr(algorithm, "fixed_choice", None) is not None:
            if hasattr(algorithm, "eval_subnets"):  # the algorithm names it (gml.DMCP retraining: as built)
                return algorithm.eval_subnets()
            return OrderedDict(subnet=algorithm.fixed_choice)
        choices = OrderedDict(reference_choices(algorithm))  # max, min (gml.DMCP: and expected)
        for name, source in self.subnets.items():
            choices[name] = algorithm.mutator.load(load_choice(source, f"search_eval_cfg.subnets.{name}"),
                                                   f"search_eval_cfg.subnets.{name}")
        return choices

    def evaluate(self, runner, step: int) -> "OrderedDict[str, Dict[str, float]]":
        algorithm = unwrap(runner.model)
        saved = bn_buffers(algorithm)
        scores: "OrderedDict[str, Dict[str, float]]" = OrderedDict()
        try:
            for name, choice in self.subnet_choices(algorithm).items():
                if choice is not None:  # None: the network as it is
                    algorithm.mutator.set_choice(choice)
                algorithm.set_regularization(False)
                calibrate(algorithm, runner.data_loader, self.calib_iters)
                self._sync(algorithm)
                result = dict(self.evaluator.accuracy(algorithm, self.dataloader))
                result.update(self.evaluator.complexity(algorithm))
                scores[name] = result
        finally:
            restore_buffers(algorithm, saved)
            algorithm.activate_default()
            algorithm.train()
        flat = OrderedDict((f"{name}.{key}", value) for name, result in scores.items() for key, value in result.items())
        for key, value in flat.items():
            runner.log_buffer.output[key] = value
        runner.log_buffer.ready = True
        units = self.evaluator.units or ""
        runner.logger.info("subnets: " + "; ".join(
            f"{name}: top-1 {r.get('accuracy_top-1', float('nan')):.2f}, {r['flops']:.3f} {units}FLOPs, "
            f"{r['params']:.3f} {units} params" for name, r in scores.items()))
        report(step=step, **{key.replace(".", "_"): value for key, value in flat.items()})
        self.last_scores = scores
        return scores


def register_search_eval_hook(runner, cfg, val_loader) -> Optional[DynamicDistEvalHook]:
    """Register ``cfg.search_eval_cfg`` (when set) on ``runner`` with ``val_loader``; for training tools."""
    hook_cfg = cfg.get("search_eval_cfg")
    if not hook_cfg:
        return None
    from mmcv.utils import build_from_cfg

    hook = build_from_cfg(dict(hook_cfg, dataloader=val_loader), HOOKS)
    runner.register_hook(hook, priority="LOW")
    return hook
