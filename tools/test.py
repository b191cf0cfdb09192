#!/usr/bin/env python
"""Evaluate a checkpoint on a config's test split, OpenMMLab style (``cfg.algorithm`` when present, else
``cfg.model``).

    python tools/test.py configs/digits/resnet18_digits.py work_dirs/r18/latest.pth --metrics accuracy \
        --out results.json

A supernet checkpoint (gml.BigNAS, gml.SPOS, a gml.DMCP supernet) is tested on its active subnet
(``--cfg-options algorithm.mutable_cfg=subnet.yaml``; DMCP: ``algorithm.channel_cfg=structure.yaml``; else the
default subnet) after that subnet's BatchNorm statistics are recalibrated on the training split, as
tools/search_subnet.py scores it (``--calib-iters`` batches, default the config's
``search_eval_cfg.bn_stats_calib_kwargs.num_iters``, else all; ``--bn-calib`` decides, see
gml/models/subnet_test.py). Checkpoints that trained one network (plain models, ``mutable_cfg`` or
``retraining=True`` in their training config) are tested as they are.

Prints ``<metric>: <value>`` lines; ``--out`` writes the metrics (and with ``--out-items`` the per-sample scores or
predicted classes) as JSON/YAML/pickle by extension.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without installing

import gml.models  # noqa: E402,F401  (first: installs the torchvision stand-in and registers gml's classes)
from gml.errors import GmlConfigError  # noqa: E402
from gml.cli.common import user_errors  # noqa: E402
from gml.models.bn_calib_settings import check_num_iters, resolve_calib_iters  # noqa: E402
from gml.models.subnet_test import BNCalibration, prepare_subnet_for_test  # noqa: E402

OUT_ITEMS = ("none", "class_scores", "pred_label")


def parse_args(argv=None):
    from mmcv import DictAction

    from gml.models.dist import add_launcher_arguments

    parser = argparse.ArgumentParser(description="Test (evaluate) a model or a gml algorithm")
    parser.add_argument("config", help="test config file path")
    parser.add_argument("checkpoint", help="checkpoint file")
    parser.add_argument("--work-dir", help="directory for the evaluation's dumped config")
    parser.add_argument("--out", help="file (.json/.yaml/.pkl) to write the metrics to")
    parser.add_argument("--out-items", nargs="+", default=["none"], choices=OUT_ITEMS,
                        help="per-sample results to add to --out")
    parser.add_argument("--metrics", nargs="+", help="evaluation metrics (default: cfg.evaluation.metric)")
    parser.add_argument("--metric-options", nargs="+", action=DictAction, default={},
                        help="e.g. topk=1,5 (default: cfg.evaluation.metric_options)")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={},
                        help="override config keys, e.g. data.test.split=train")
    parser.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when available, else cpu")
    parser.add_argument("--gpu-id", type=int, default=0, help="id of the GPU to use (non-distributed runs)")
    parser.add_argument("--gpu-collect", action="store_true", help="collect distributed results over GPU")
    parser.add_argument("--tmpdir", help="directory for collecting distributed results (without --gpu-collect)")
    parser.add_argument("--bn-calib", choices=[p.value for p in BNCalibration], default="auto",
                        help="recalibrate a supernet's BatchNorm statistics for the tested subnet: auto (when the "
                             "checkpoint trained a supernet), always, never")
    parser.add_argument("--calib-iters", type=int, default=None,
                        help="batches of the training split for BatchNorm recalibration (-1: all; default: the "
                             "config's search_eval_cfg.bn_stats_calib_kwargs.num_iters, else all)")
    add_launcher_arguments(parser)
    args = parser.parse_args(argv)
    if args.calib_iters is not None:
        check_num_iters(args.calib_iters, "--calib-iters")
    os.environ.setdefault("LOCAL_RANK", str(args.local_rank))
    return args


def _metric_options(options: dict) -> dict:
    options = dict(options)
    if "topk" in options:  # "--metric-options topk=1,5" arrives as a list or an int
        topk = options["topk"]
        options["topk"] = tuple(topk) if isinstance(topk, (list, tuple)) else (topk, )
    return options


def main(argv=None) -> int:
    import mmcv
    from mmcv.runner import get_dist_info, load_checkpoint

    from gml.models import build_model_from_config
    from gml.models.builder import load_config
    from gml.models.dist import init_distributed, select_device, shutdown_distributed, wrap_model
    from gml.models.testing import run_test
    from gml.models.training import build_val_loader

    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    if "test" not in cfg.get("data", {}):
        raise GmlConfigError("data.test", "the config has no test dataset")
    calib_iters = resolve_calib_iters(cfg, args.calib_iters)
    device = select_device(args, cfg)
    distributed = init_distributed(args.launcher, **cfg.get("dist_params", {}))
    rank, _ = get_dist_info()
    if args.work_dir and rank == 0:
        mmcv.mkdir_or_exist(osp.abspath(args.work_dir))
        cfg.dump(osp.join(args.work_dir, osp.basename(args.config)))

    dataset, loader = build_val_loader(cfg, distributed, split="test")
    model = build_model_from_config(cfg)
    checkpoint = load_checkpoint(model, args.checkpoint, map_location="cpu")
    model.CLASSES = checkpoint.get("meta", {}).get("CLASSES") or dataset.CLASSES
    if device == "cuda":
        model = model.cuda()  # recalibrate where the model runs
    calibrated = prepare_subnet_for_test(model, cfg, checkpoint.get("meta"), BNCalibration(args.bn_calib),
                                         calib_iters)
    if calibrated and rank == 0:
        print(calibrated, flush=True)
    # Testing needs no gradient synchronisation: on CPU every process runs its own copy of the model (no DDP
    # reducer, no collective per batch); on CUDA the model is wrapped in DDP as OpenMMLab's tools do.
    model = wrap_model(model, device, distributed=distributed and device == "cuda")
    outputs = run_test(model, loader, device, distributed, args.tmpdir, args.gpu_collect)
    try:
        if rank == 0:
            report(args, cfg, dataset, outputs)
    finally:
        shutdown_distributed()    # the other processes wait here until rank 0 has written its results
    return 0


def report(args, cfg, dataset, outputs) -> None:
    """Evaluate the gathered ``outputs`` on ``dataset``, print the metrics and write ``--out`` (rank 0 only)."""
    import mmcv
    import numpy as np

    eval_cfg = cfg.get("evaluation", {})
    metrics = args.metrics or eval_cfg.get("metric", "accuracy")
    options = _metric_options(args.metric_options or eval_cfg.get("metric_options", {}))
    results = dataset.evaluate(outputs, metrics, options)
    print()
    for name, value in results.items():
        print(f"{name}: {float(value):.4f}")
    if args.out:
        payload = {"metrics": {k: float(v) for k, v in results.items()},
                   "config": osp.abspath(args.config), "checkpoint": osp.abspath(args.checkpoint)}
        scores = np.vstack(outputs)
        if "class_scores" in args.out_items:
            payload["class_scores"] = scores.tolist()
        if "pred_label" in args.out_items:
            payload["pred_label"] = scores.argmax(axis=1).tolist()
        mmcv.dump(payload, args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(user_errors(os.path.basename(__file__))(main)())
