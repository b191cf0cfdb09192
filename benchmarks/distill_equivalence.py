#!/usr/bin/env python
"""Do two versions of gml's distillation train alike? Record a few seeded training steps of every distillation
config with one checkout's gml, then compare two such records.

    python benchmarks/distill_equivalence.py record OUT.pt [--code DIR] [--steps 3] [--batch 8] [--configs ...]
    python benchmarks/distill_equivalence.py compare A.pt B.pt

``record`` imports gml from ``--code`` (a checkout's root; default: this one), builds each config's algorithm
(seed 0; teachers keep random weights, as no checkpoint is needed to compare code), and runs ``--steps`` training
steps as mmcv's runner does (``train_step``, backward of ``loss``, SGD with momentum and weight decay) on seeded
random batches; the epoch is set to 0 for the first steps and to 1 for the last one, so the activation-boundary
config runs both phases. Per step it keeps the logged values, the total loss, every parameter's gradient and every
parameter and buffer after the optimizer step.

``compare`` prints, per config and quantity (``grad``, ``log``, ``loss``, ``state``), whether the two records are
bit-identical, else the largest absolute and relative difference (relative to the largest magnitude of that tensor),
for the first step (what a formula changes: float rounding of a reorganised formula gives a few 1e-7) and over all
steps (later steps also carry the first step's differences through the optimizer). It exits 1 when a config's keys
differ, 0 otherwise: the printed differences are to be judged.
"""
from __future__ import annotations

import argparse
import copy
import glob
import os.path as osp
import sys
import warnings

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT_CONFIGS = sorted(c for c in glob.glob(osp.join(ROOT, "configs/distill/*_to_*.py")))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out")
    rec.add_argument("--code", default=ROOT, help="root of the checkout whose gml is imported")
    rec.add_argument("--steps", type=int, default=3)
    rec.add_argument("--batch", type=int, default=8)
    rec.add_argument("--configs", nargs="+", default=DEFAULT_CONFIGS)
    cmp = sub.add_parser("compare")
    cmp.add_argument("a")
    cmp.add_argument("b")
    return p.parse_args()


def record_config(config: str, steps: int, batch: int) -> dict:
    """The trace of ``steps`` training steps of ``config``'s algorithm: name -> tensor."""
    import torch
    from mmcv import Config

    from gml.models import build_algorithm

    cfg = Config.fromfile(config)
    algorithm_cfg = copy.deepcopy(cfg.algorithm)
    teachers = algorithm_cfg.distiller.distill_cfg
    for teacher in teachers if isinstance(teachers, list) else [teachers]:
        teacher["ckpt_path"] = None
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alg = build_algorithm(algorithm_cfg)
    alg.init_weights()
    alg.train()
    optimizer = torch.optim.SGD(alg.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    trace = {}
    generator = torch.Generator().manual_seed(1)
    for step in range(steps):
        alg.epoch = 0 if step < steps - 1 else 1
        img = torch.randn(batch, 3, 32, 32, generator=generator)
        label = torch.randint(0, 10, (batch, ), generator=generator)
        optimizer.zero_grad()
        out = alg.train_step(dict(img=img, gt_label=label), optimizer)
        out["loss"].backward()
        trace[f"{step}/loss"] = out["loss"].detach().clone()
        for name, value in out["log_vars"].items():
            trace[f"{step}/log/{name}"] = torch.tensor(value, dtype=torch.float64)
        for name, param in alg.named_parameters():
            if param.grad is not None:
                trace[f"{step}/grad/{name}"] = param.grad.detach().clone()
        optimizer.step()
        for name, value in alg.state_dict().items():
            trace[f"{step}/state/{name}"] = value.detach().clone()
    return trace


def record(args) -> int:
    sys.path.insert(0, osp.abspath(args.code))
    import logging

    import torch

    import gml.models  # noqa: F401  (registers gml's classes, silences mmcv's notices)

    logging.getLogger("mmcv").setLevel(logging.WARNING)  # init_weights' per-parameter report
    torch.set_num_threads(1)
    print(f"gml from {osp.dirname(gml.models.__file__)}")
    records = {osp.basename(c): record_config(c, args.steps, args.batch) for c in args.configs}
    torch.save(records, args.out)
    print(f"recorded {len(records)} configs x {args.steps} steps -> {args.out}")
    return 0


def compare(args) -> int:
    import torch

    a, b = torch.load(args.a), torch.load(args.b)
    status = 0
    for config in sorted(set(a) | set(b)):
        if config not in a or config not in b or set(a[config]) != set(b[config]):
            print(f"{config}: the records hold different keys")
            status = 1
            continue
        first = min(int(key.split("/")[0]) for key in a[config])
        worst = {}  # (kind, "first step" | "all steps") -> (max abs diff, max rel diff, bit-identical)
        for key in a[config]:
            step, kind = key.split("/")[:2]
            x, y = a[config][key].double(), b[config][key].double()
            diff = (x - y).abs().max().item() if x.numel() else 0.0
            rel = diff / max(x.abs().max().item() if x.numel() else 0.0, 1e-30)
            same = torch.equal(a[config][key], b[config][key])
            for scope in ("first step", "all steps") if int(step) == first else ("all steps", ):
                old = worst.get((kind, scope), (0.0, 0.0, True))
                worst[(kind, scope)] = (max(old[0], diff), max(old[1], rel), old[2] and same)
        print(f"{config}:")
        for kind in sorted({kind for kind, _ in worst}):
            cells = [f"{scope} " + ("bit-identical" if same else f"max abs {diff:.3g}, max rel {rel:.3g}")
                     for scope in ("first step", "all steps") for diff, rel, same in [worst[(kind, scope)]]]
            print(f"  {kind:6s} " + "; ".join(cells))
    return status


def main() -> int:
    args = parse_args()
    return record(args) if args.command == "record" else compare(args)


if __name__ == "__main__":
    sys.exit(main())
