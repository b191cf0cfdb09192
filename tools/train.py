#!/usr/bin/env python
"""Train an mm config, OpenMMLab style: builds ``cfg.algorithm`` when the config has one, else ``cfg.model``.

    python tools/train.py configs/digits/resnet18_digits.py --work-dir work_dirs/r18 \
        --cfg-options optimizer.lr=0.05 runner.max_epochs=3

Runs on CPU when no GPU is visible. Distributed: ``--launcher pytorch`` under torchrun (tools/dist_train.sh) or
``--launcher slurm`` under srun. Inside a gml search the job reports its loss and eval metrics (gml.GmlReportHook).
"""
from __future__ import annotations

import argparse
import copy
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without installing

import gml.models  # noqa: E402  (first: installs the torchvision stand-in and registers gml's classes)
from gml.cli.common import user_errors  # noqa: E402


def parse_args(argv=None):
    from mmcv import DictAction

    from gml.models.dist import add_launcher_arguments

    parser = argparse.ArgumentParser(description="Train a model or a gml algorithm from an mm config")
    parser.add_argument("config", help="train config file path")
    parser.add_argument("--work-dir", help="the dir to save logs and models (default ./work_dirs/<config name>)")
    parser.add_argument("--resume-from", help="the checkpoint file to resume from (weights, optimizer, epoch)")
    parser.add_argument("--load-from", help="the checkpoint file to initialise the weights from")
    parser.add_argument("--no-validate", action="store_true", help="do not evaluate checkpoints during training")
    parser.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when available, else cpu")
    parser.add_argument("--gpu-id", type=int, default=0, help="id of the GPU to use (non-distributed runs)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: cfg.seed, else random)")
    parser.add_argument("--diff-seed", action="store_true", help="a different seed on every rank")
    parser.add_argument("--deterministic", action="store_true", help="deterministic cuDNN / torch algorithms")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={},
                        help="override config keys, e.g. optimizer.lr=0.1 model.backbone.depth=34")
    add_launcher_arguments(parser)
    args = parser.parse_args(argv)
    os.environ.setdefault("LOCAL_RANK", str(args.local_rank))
    return args


def main(argv=None) -> int:
    import mmcv
    import torch
    from mmcls import __version__ as mmcls_version
    from mmcls.apis import init_random_seed, set_random_seed
    from mmcls.datasets import build_dataset
    from mmcls.utils import collect_env, get_root_logger
    from mmcv.runner import get_dist_info

    from gml.models import build_model_from_config
    from gml.models.builder import load_config
    from gml.models.dist import init_distributed, select_device, shutdown_distributed
    from gml.models.training import add_report_hook, train_model

    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    if cfg.get("cudnn_benchmark", False):
        torch.backends.cudnn.benchmark = True

    cfg.work_dir = args.work_dir or cfg.get("work_dir") or osp.join(
        "./work_dirs", osp.splitext(osp.basename(args.config))[0])
    if args.resume_from:
        cfg.resume_from = args.resume_from
    if args.load_from:
        cfg.load_from = args.load_from
    cfg.device = select_device(args, cfg)
    cfg.gpu_ids = [args.gpu_id]

    distributed = init_distributed(args.launcher, **cfg.get("dist_params", {}))
    rank, world_size = get_dist_info()
    if distributed:
        cfg.gpu_ids = list(range(world_size))
    add_report_hook(cfg)

    mmcv.mkdir_or_exist(osp.abspath(cfg.work_dir))
    if rank == 0:
        cfg.dump(osp.join(cfg.work_dir, osp.basename(args.config)))
    timestamp = time.strftime("%Y%m%d_%H%M%S", time.localtime())
    logger = get_root_logger(log_file=osp.join(cfg.work_dir, f"{timestamp}.log"),
                             log_level=cfg.get("log_level", "INFO"))

    env_info = "\n".join(f"{k}: {v}" for k, v in collect_env().items())
    logger.info("Environment info:\n" + env_info)
    logger.info(f"Distributed training: {distributed}")
    logger.info(f"Config:\n{cfg.pretty_text}")

    seed = init_random_seed(args.seed if args.seed is not None else cfg.get("seed"), device=cfg.device)
    seed = seed + rank if args.diff_seed else seed
    logger.info(f"Set random seed to {seed}, deterministic: {args.deterministic}")
    set_random_seed(seed, deterministic=args.deterministic)
    cfg.seed = seed
    meta = dict(env_info=env_info, seed=seed, exp_name=osp.basename(args.config), config=cfg.pretty_text)

    model = build_model_from_config(cfg)
    model.init_weights()
    datasets = [build_dataset(cfg.data.train)]
    if len(cfg.workflow) == 2:
        val_cfg = copy.deepcopy(cfg.data.val)
        val_cfg.pipeline = cfg.data.train.pipeline
        datasets.append(build_dataset(val_cfg))
    model.CLASSES = datasets[0].CLASSES
    if cfg.get("checkpoint_config") is not None:
        cfg.checkpoint_config.meta = dict(mmcls_version=mmcls_version, gml_version=gml.__version__,
                                          config=cfg.pretty_text, CLASSES=datasets[0].CLASSES)
    train_model(model, datasets, cfg, distributed=distributed, validate=not args.no_validate,
                timestamp=timestamp, meta=meta, logger=logger)
    shutdown_distributed()
    return 0


if __name__ == "__main__":
    sys.exit(user_errors(os.path.basename(__file__))(main)())
