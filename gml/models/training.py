"""The training loop set-up behind tools/train.py: data loaders, wrapped model, runner, hooks, resume.

It follows mmcls's ``train_model`` (so existing mm configs mean the same thing) with three differences:

- the model may be an algorithm (``cfg.algorithm``), and CPU runs (also distributed over gloo) are first-class;
- training data are always drawn by an epoch-seeded sampler and every RNG (python, numpy, torch) is re-seeded at
  the start of each epoch from ``(cfg.seed, epoch)`` (:class:`EpochReseedHook`), so that a run resumed from a
  checkpoint trains its next epochs exactly as the uninterrupted run would;
- inside a gml search (``GML_JOB_DIR`` set) a :class:`~gml.models.hooks.GmlReportHook` is added when the config
  has none, so every mm config reports its loss and eval metrics without edits.
"""
from __future__ import annotations

import copy
import random
from typing import List, Optional, Sequence

import numpy as np
import torch
from mmcls.core import DistEvalHook, DistOptimizerHook, EvalHook
from mmcls.datasets import build_dataloader, build_dataset
from mmcv.runner import DistSamplerSeedHook, Hook, build_optimizer, build_runner, get_dist_info
from mmcv.runner import Fp16OptimizerHook

from ..errors import GmlConfigError
from ..reporting import in_search
from .algorithms.base import BaseAlgorithm
from .dist import wrap_model
from .registry import HOOKS

REPORT_HOOK = "GmlReportHook"


@HOOKS.register_module()
class EpochReseedHook(Hook):
    """Re-seed python, numpy and torch at the start of every training epoch from ``seed`` and the epoch number.

    Data order already depends only on (seed, epoch) through the epoch-seeded sampler; this makes the random parts
    of augmentation, dropout and sampling in algorithms depend on them too, so a resumed run repeats the epochs an
    uninterrupted run would have trained.
    """

    def __init__(self, seed: int):
        self.seed = int(seed)

    def before_train_epoch(self, runner) -> None:
        rank = get_dist_info()[0]
        value = (self.seed * 1_000_003 + runner.epoch * 7_919 + rank) % (2 ** 31)
        random.seed(value)
        np.random.seed(value)
        torch.manual_seed(value)


def _hook_types(cfg) -> List[str]:
    hooks = list((cfg.get("log_config") or {}).get("hooks", [])) + list(cfg.get("custom_hooks") or [])
    return [str(h.get("type", "")) for h in hooks if isinstance(h, dict)]


def add_report_hook(cfg) -> bool:
    """Inside a search, add ``gml.GmlReportHook`` to ``cfg.log_config.hooks`` unless a report hook is there.
    Returns whether it was added."""
    if not in_search():
        return False
    if any(t.split(".")[-1] == REPORT_HOOK for t in _hook_types(cfg)):
        return False
    if cfg.get("log_config") is None:
        cfg.log_config = dict(interval=10, hooks=[])
    cfg.log_config.setdefault("hooks", [])
    cfg.log_config.hooks = list(cfg.log_config.hooks) + [dict(type=f"gml.{REPORT_HOOK}")]
    return True


def _loader_cfg(cfg, distributed: bool) -> dict:
    common = dict(num_gpus=1, dist=True, round_up=True, seed=cfg.get("seed"), sampler_cfg=cfg.get("sampler"),
                  pin_memory=torch.cuda.is_available())     # mmcls pins by default; that only helps copies to a GPU
    common.update({k: v for k, v in cfg.data.items()
                   if k not in ("train", "val", "test", "train_dataloader", "val_dataloader", "test_dataloader")})
    if common.get("workers_per_gpu", 0) == 0:
        common["persistent_workers"] = False  # DataLoader refuses persistent workers without workers
    return common


def build_train_loaders(datasets: Sequence, cfg, distributed: bool):
    """One loader per dataset; always with mmcls's (seeded, per-epoch) DistributedSampler, which with one process
    is a seeded shuffle of the whole dataset."""
    loader_cfg = {**_loader_cfg(cfg, distributed), **cfg.data.get("train_dataloader", {})}
    return [build_dataloader(ds, **loader_cfg) for ds in datasets]


def build_val_loader(cfg, distributed: bool, split: str = "val"):
    dataset = build_dataset(cfg.data[split], dict(test_mode=True))
    loader_cfg = {**_loader_cfg(cfg, distributed), "shuffle": False, "sampler_cfg": None, "drop_last": False,
                  "dist": distributed, **cfg.data.get(f"{split}_dataloader", {})}
    return dataset, build_dataloader(dataset, **loader_cfg)


def check_optimizer_config(model, cfg) -> None:
    """Refuse ``optimizer_config`` (and ``fp16``) for an algorithm that steps the optimizer itself
    (``steps_optimizer = True``, e.g. ``gml.BigNAS``): mmcv's OptimizerHook would back-propagate a ``loss`` that
    such an algorithm's ``train_step`` does not return."""
    if not getattr(model, "steps_optimizer", False):
        return
    name = type(model).__name__
    if cfg.get("optimizer_config") is not None:
        raise GmlConfigError("optimizer_config", f"{name} steps the optimizer itself in train_step; set "
                             f"optimizer_config = None (gradient clipping goes to the algorithm, e.g. "
                             f"algorithm.grad_clip), got {cfg.optimizer_config!r}")
    if cfg.get("fp16") is not None:
        raise GmlConfigError("fp16", f"{name} steps the optimizer itself in train_step; mmcv's fp16 optimizer "
                             f"hook cannot wrap it: remove fp16")


def train_model(model, datasets: Sequence, cfg, distributed: bool = False, validate: bool = True,
                timestamp: Optional[str] = None, meta: Optional[dict] = None, logger=None):
    """Train ``model`` (a model or an algorithm) on ``datasets`` as ``cfg`` says; returns the runner after the run.

    ``cfg`` must carry ``work_dir``, ``seed``, ``device`` ('cpu' or 'cuda'), ``runner``, ``optimizer``,
    ``optimizer_config``, ``lr_config``, ``checkpoint_config``, ``log_config``, ``workflow`` and ``data`` as in
    mmcls configs; ``resume_from``/``load_from`` are honoured (resume wins). An algorithm that steps the optimizer
    itself needs ``optimizer_config = None`` (:func:`check_optimizer_config`; GmlConfigError otherwise).
    """
    check_optimizer_config(model, cfg)
    if logger is None:
        from mmcls.utils import get_root_logger

        logger = get_root_logger()
    data_loaders = build_train_loaders(datasets, cfg, distributed)
    algorithm = model if isinstance(model, BaseAlgorithm) else None
    algorithm_hooks = algorithm.runner_hooks() if algorithm is not None else []
    model = wrap_model(model, cfg.device, distributed, cfg.get("find_unused_parameters", False))
    optimizer = None
    if cfg.get("optimizer"):
        # an algorithm may build several optimizers (gml.DMCP: weights + architecture parameters)
        optimizer = (algorithm.build_optimizers(cfg.optimizer, model) if algorithm is not None
                     else build_optimizer(model, cfg.optimizer))
    runner_cfg = copy.deepcopy(cfg.get("runner") or dict(type="EpochBasedRunner", max_epochs=cfg.total_epochs))
    runner = build_runner(runner_cfg, default_args=dict(model=model, batch_processor=None, optimizer=optimizer,
                                                        work_dir=cfg.work_dir, logger=logger, meta=meta))
    runner.timestamp = timestamp

    optimizer_config = cfg.get("optimizer_config")
    if cfg.get("fp16") is not None:
        optimizer_config = Fp16OptimizerHook(**(optimizer_config or {}), **cfg.fp16, distributed=distributed)
    elif distributed and optimizer_config is not None and "type" not in optimizer_config:
        optimizer_config = DistOptimizerHook(**optimizer_config)
    runner.register_training_hooks(cfg.lr_config, optimizer_config, cfg.get("checkpoint_config"),
                                   cfg.get("log_config"), cfg.get("momentum_config"),
                                   custom_hooks_config=cfg.get("custom_hooks"))
    for hook, priority in algorithm_hooks:  # e.g. a distillation's connector pretraining (BaseAlgorithm.runner_hooks)
        runner.register_hook(hook, priority=priority)
    by_epoch = runner_cfg["type"] != "IterBasedRunner"
    if by_epoch:
        runner.register_hook(DistSamplerSeedHook())
        if cfg.get("seed") is not None:
            runner.register_hook(EpochReseedHook(cfg.seed), priority="VERY_HIGH")

    if validate:
        _, val_loader = build_val_loader(cfg, distributed)
        eval_cfg = dict(cfg.get("evaluation") or {})
        eval_cfg["by_epoch"] = by_epoch
        # After IterTimerHook (mmcv#1261), before the logger hooks that read its results.
        runner.register_hook((DistEvalHook if distributed else EvalHook)(val_loader, **eval_cfg), priority="LOW")
        # NAS supernets: evaluate max/min subnets after BN recalibration (cfg.search_eval_cfg; see hooks.dynamic_eval).
        from .hooks.dynamic_eval import register_search_eval_hook
        register_search_eval_hook(runner, cfg, val_loader)

    if cfg.get("resume_from"):
        runner.resume(cfg.resume_from)
    elif cfg.get("load_from"):
        runner.load_checkpoint(cfg.load_from)
    runner.run(data_loaders, cfg.workflow)
    return runner
