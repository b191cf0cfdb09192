#!/usr/bin/env python
"""Export a subnet of a trained BigNAS supernet as a plain mmcls model: a config + a checkpoint of sliced weights.

    python tools/export_subnet.py CONFIG CHECKPOINT SUBNET_YAML --out-dir work_dirs/export [--calib-iters N]
        [--eval]

The subnet's BatchNorm statistics are recalibrated first (training split, test pipeline, fixed order: the same
statistics tools/search_subnet.py scored with). Writes ``subnet_config.py`` (``mmcls.ImageClassifier`` with the
static backbone, ``mmcls.LinearClsHead``, the supernet config's data/schedule/runtime, ``custom_imports`` of
``gml.models``; a ``Resize`` joins the pipelines when the subnet's resolution differs from the images') and
``subnet.pth``. ``--eval`` then evaluates the subnet inside the supernet and the exported model built by mmcls's
own builder and test loop, and prints both accuracies.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import gml.models  # noqa: E402,F401
from gml.cli.common import user_errors  # noqa: E402


def parse_args(argv=None):
    from mmcv import DictAction

    p = argparse.ArgumentParser(description="Export a BigNAS subnet as a plain mmcls config + checkpoint")
    p.add_argument("config")
    p.add_argument("checkpoint")
    p.add_argument("subnet", help="subnet YAML (tools/search_subnet.py's best_subnet.yaml)")
    p.add_argument("--out-dir", required=True)
    p.add_argument("--calib-iters", type=int, default=None,
                   help="BN calibration batches (-1: the whole split; default: the config's "
                        "search_eval_cfg.bn_stats_calib_kwargs.num_iters, else -1)")
    p.add_argument("--eval", action="store_true", help="evaluate the supernet subnet and the exported model")
    p.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return p.parse_args(argv)


def evaluate_plain(config_path: str, checkpoint: str) -> dict:
    """Accuracy of an exported model through mmcls alone: its builder, checkpoint loader and test loop."""
    import numpy as np
    import torch
    from mmcls.apis import single_gpu_test
    from mmcls.datasets import build_dataloader, build_dataset
    from mmcls.models import build_classifier
    from mmcv import Config
    from mmcv.parallel import MMDataParallel
    from mmcv.runner import load_checkpoint
    from mmcv.utils import import_modules_from_strings

    cfg = Config.fromfile(config_path)
    if cfg.get("custom_imports"):
        import_modules_from_strings(**cfg.custom_imports)
    model = build_classifier(cfg.model)
    load_checkpoint(model, checkpoint, map_location="cpu", strict=True, logger="silent")
    dataset = build_dataset(cfg.data.test, dict(test_mode=True))
    loader = build_dataloader(dataset, samples_per_gpu=cfg.data.samples_per_gpu, workers_per_gpu=0, dist=False,
                              shuffle=False, round_up=False, persistent_workers=False,
                              pin_memory=torch.cuda.is_available())   # mmcls pins by default: only a GPU gains
    outputs = single_gpu_test(MMDataParallel(model.eval()), loader, show=False)
    topk = (1, 5) if len(outputs[0]) >= 5 else (1,)
    return {k: float(v) for k, v in dataset.evaluate(np.vstack(outputs), metric="accuracy",
                                                     metric_options=dict(topk=topk)).items()}


def main(argv=None) -> int:
    import torch

    from gml.models.bn_calib_settings import resolve_calib_iters
    from gml.models.builder import load_config
    from gml.models.mutators import load_choice
    from gml.models.subnet import (build_loaders, calibrate, evaluator_from_cfg, export_subnet, load_supernet,
                                   score_subnet)

    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    calib_iters = resolve_calib_iters(cfg, args.calib_iters)
    algorithm = load_supernet(cfg, args.checkpoint)
    evaluator = evaluator_from_cfg(cfg)
    val_loader, calib_loader = build_loaders(cfg)
    choice = algorithm.mutator.load(load_choice(args.subnet, "subnet"), "subnet")
    if args.eval:
        supernet_scores = score_subnet(algorithm, choice, evaluator, val_loader, calib_loader, calib_iters)
    else:
        algorithm.mutator.set_choice(choice)
        calibrate(algorithm, calib_loader, calib_iters)
        supernet_scores = evaluator.complexity(algorithm)
    input_size = int(evaluator.default_shape[-1])
    plain_cfg, state = export_subnet(cfg, algorithm, choice, input_size)
    os.makedirs(args.out_dir, exist_ok=True)
    config_path = osp.join(args.out_dir, "subnet_config.py")
    checkpoint_path = osp.join(args.out_dir, "subnet.pth")
    plain_cfg.dump(config_path)
    classes = getattr(algorithm, "CLASSES", None) or getattr(val_loader.dataset, "CLASSES", None)
    torch.save(dict(state_dict=state, meta=dict(CLASSES=classes, subnet=choice, supernet=args.checkpoint)),
               checkpoint_path)
    print(f"[export] wrote {config_path} and {checkpoint_path} "
          f"({supernet_scores['flops']:.3f} {evaluator.units or ''}FLOPs, "
          f"{supernet_scores['params']:.3f} {evaluator.units or ''} params)")
    if args.eval:
        plain_scores = evaluate_plain(config_path, checkpoint_path)
        print(json.dumps(dict(supernet_subnet=supernet_scores, exported_plain_mmcls=plain_scores)))
    return 0


if __name__ == "__main__":
    sys.exit(user_errors(os.path.basename(__file__))(main)())
