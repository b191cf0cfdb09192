#!/usr/bin/env python
"""Whether two gml trees train the same: a few BigNAS sandwich steps, DMCP iterations and distillation steps,
bit for bit.

    python benchmarks/same_steps.py --against /path/to/other/gml/tree [--steps 3] [--only distill] [--distill-batch 8]

Runs, once with the code of this tree and once (a child process) with that of ``--against``, from the same seed
and on the same random batches: ``--steps`` BigNAS sandwich4 steps of the digits MobileNetV3 supernet (with and
without ``grad_clip``) and DMCP iterations (weight step + architecture step) of the digits16 ResNet and of mmcls's
ImageNet ResNet-50 at 32x32, each with SGD + momentum + weight decay. It then compares every logged loss, weight,
gradient, optimizer state tensor and BatchNorm statistic of the two runs bit for bit (``-0.0`` and ``+0.0`` count
as equal values and are reported apart) and exits 1 if any differs. The distillation family trains every
``configs/distill/*_to_*.py`` algorithm (teachers with random weights: no checkpoint is needed to compare code) for
``--steps`` SGD steps on seeded batches of ``--distill-batch`` images, the epoch set to 1 for the last step so that
the activation-boundary config runs both of its phases. A helper for changes meant to cut a step's cost without
changing what it computes; ``--only`` runs some families.
"""
from __future__ import annotations

import argparse
import copy
import glob
import os
import os.path as osp
import subprocess
import sys
import tempfile

HERE = osp.dirname(osp.dirname(osp.abspath(__file__)))
ROOT = HERE  # the tree whose code and configs a run uses (a child process: the one it was started for)
FAMILIES = ("bignas", "dmcp", "distill")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--against", required=True, help="root of the other gml tree (e.g. a checkout of main)")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--only", nargs="+", choices=FAMILIES, default=list(FAMILIES), help="the families to run")
    p.add_argument("--distill-batch", type=int, default=8,
                   help="images per distillation step (8: the shipped configs' sizes are powers of 2)")
    p.add_argument("--dump", help=argparse.SUPPRESS)  # child: write this tree's run to this file
    return p.parse_args(argv)


def _tensors(prefix, alg, optimizers, log_vars):
    import torch

    out = {f"{prefix}.log.{k}": torch.tensor(v, dtype=torch.float64) for k, v in log_vars.items()}
    for name, value in alg.state_dict().items():  # weights and BatchNorm statistics
        out[f"{prefix}.state.{name}"] = value.detach().clone()
    for name, param in alg.named_parameters():
        if param.grad is not None:
            out[f"{prefix}.grad.{name}"] = param.grad.detach().clone()
    for opt_name, opt in optimizers.items():
        for index, state in enumerate(opt.state_dict()["state"].values()):
            for key, value in state.items():
                if isinstance(value, torch.Tensor):
                    out[f"{prefix}.opt.{opt_name}.{index}.{key}"] = value.detach().clone()
    return out


def run_bignas(steps, grad_clip):
    import torch
    from mmcv import Config

    from gml.models import build_algorithm

    cfg = Config.fromfile(osp.join(ROOT, "configs/nas/bignas/bignas_mobilenetv3_digits.py"))
    algorithm_cfg = copy.deepcopy(cfg.algorithm)
    algorithm_cfg["strategy"] = "sandwich4"
    algorithm_cfg["mutator"] = dict(algorithm_cfg.get("mutator") or dict(type="gml.StatelessMutator"), seed=7)
    if grad_clip:
        algorithm_cfg["grad_clip"] = dict(max_norm=1.0)
    torch.manual_seed(0)
    alg = build_algorithm(algorithm_cfg).train()
    opt = torch.optim.SGD(alg.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    out = {}
    for step in range(steps):
        data = dict(img=torch.randn(8, 3, 32, 32), gt_label=torch.randint(0, 10, (8,)))
        log_vars = alg.train_step(data, opt)["log_vars"]
        out.update(_tensors(f"bignas{'_clip' if grad_clip else ''}.{step}", alg, dict(sgd=opt), log_vars))
    return out


def run_dmcp(steps, imagenet):
    import torch
    from mmcv import Config

    from gml.models import build_algorithm
    from gml.models.mutators.dmcp import supernet_flops_range

    cfg = Config.fromfile(osp.join(ROOT, "configs/pruning/dmcp/dmcp_resnet_digits16.py"))
    algorithm_cfg = copy.deepcopy(cfg.algorithm)
    size, classes = 16, 10
    if imagenet:
        sys.path.insert(0, osp.join(ROOT, "benchmarks"))
        from dmcp_step import IMAGENET_MODELS

        algorithm_cfg["model"] = IMAGENET_MODELS["resnet50"]
        size, classes = 32, 1000
    algorithm_cfg["mutator"]["input_shape"] = (3, size, size)
    algorithm_cfg["mutator"]["seed"] = 0
    algorithm_cfg["algorithm_cfg"]["arch_start_train"] = 0
    algorithm_cfg["distill_iter"] = 1
    low, high = supernet_flops_range(algorithm_cfg["model"], algorithm_cfg["mutator"])
    algorithm_cfg["floss_cfg"]["target_flops"] = (low + high) / 2
    torch.manual_seed(0)
    alg = build_algorithm(algorithm_cfg).train()
    optimizers = alg.build_optimizers(dict(type="SGD", lr=0.05, momentum=0.9, weight_decay=1e-4))
    out = {}
    for step in range(steps):
        data = dict(img=torch.randn(4, 3, size, size), gt_label=torch.randint(0, classes, (4,)))
        log_vars = alg.train_step(data, optimizers)["log_vars"]
        out.update(_tensors(f"dmcp{'_r50' if imagenet else ''}.{step}", alg, optimizers, log_vars))
    return out


def run_distill(steps, batch):
    import warnings

    import torch
    from mmcv import Config

    from gml.models import build_algorithm

    out = {}
    for config in sorted(glob.glob(osp.join(ROOT, "configs/distill/*_to_*.py"))):
        algorithm_cfg = copy.deepcopy(Config.fromfile(config).algorithm)
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
        generator = torch.Generator().manual_seed(1)
        name = osp.splitext(osp.basename(config))[0]
        for step in range(steps):
            alg.epoch = 0 if step < steps - 1 else 1
            data = dict(img=torch.randn(batch, 3, 32, 32, generator=generator),
                        gt_label=torch.randint(0, 10, (batch,), generator=generator))
            optimizer.zero_grad()
            result = alg.train_step(data, optimizer)
            result["loss"].backward()
            optimizer.step()
            out.update(_tensors(f"{name}.{step}", alg, {"sgd": optimizer}, result["log_vars"]))
    return out


def dump(path, steps, families, distill_batch):
    import logging

    import torch

    import gml.models  # noqa: F401

    logging.getLogger("mmcv").setLevel(logging.WARNING)  # init_weights' per-parameter report
    torch.set_num_threads(1)
    out = {}
    if "bignas" in families:
        out.update(run_bignas(steps, grad_clip=False))
        out.update(run_bignas(steps, grad_clip=True))
    if "dmcp" in families:
        out.update(run_dmcp(steps, imagenet=False))
        out.update(run_dmcp(steps, imagenet=True))
    if "distill" in families:
        out.update(run_distill(steps, distill_batch))
    torch.save(out, path)


def _bits(tensor):
    import torch

    if tensor.is_floating_point():
        return tensor.contiguous().view({torch.float64: torch.int64, torch.float32: torch.int32,
                                         torch.float16: torch.int16, torch.bfloat16: torch.int16}[tensor.dtype])
    return tensor


def _relative_difference(a, b) -> float:
    """The largest absolute difference of ``a`` and ``b`` relative to ``a``'s largest magnitude (inf: shapes
    differ)."""
    if a.shape != b.shape:
        return float("inf")
    a, b = a.double(), b.double()
    return (a - b).abs().max().item() / max(a.abs().max().item(), 1e-30) if a.numel() else 0.0


def compare(ours, theirs) -> int:
    import torch

    differ, signed_zeros = [], []
    if set(ours) != set(theirs):
        print(f"different entries: only here {sorted(set(ours) - set(theirs))[:5]}, "
              f"only there {sorted(set(theirs) - set(ours))[:5]}")
        return 1
    for key in ours:
        a, b = ours[key], theirs[key]
        if a.shape != b.shape or a.dtype != b.dtype or not torch.equal(a, b):
            differ.append(key)
        elif not torch.equal(_bits(a), _bits(b)):
            signed_zeros.append(key)
    kinds = sorted({key.split(".")[0] for key in ours})
    print(f"{len(ours)} tensors compared ({', '.join(kinds)}); values differ: {len(differ)}; equal values with "
          f"another sign of zero: {len(signed_zeros)}")
    relative = {key: _relative_difference(ours[key], theirs[key]) for key in differ}
    for kind in kinds:
        different = [key for key in differ if key.split(".")[0] == kind]
        total = sum(key.split(".")[0] == kind for key in ours)
        print(f"  {kind}: " + (f"{len(different)} of {total} differ, by at most "
                               f"{max(relative[key] for key in different):.3g} relative" if different
                               else "bit-identical"))
    for key in differ[:20]:
        print(f"  differs: {key} (max abs diff {(ours[key].double() - theirs[key].double()).abs().max():.3g}, "
              f"relative {relative[key]:.3g})")
    for key in signed_zeros[:20]:
        print(f"  sign of a zero: {key}")
    return 1 if differ else 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.dump:
        global ROOT
        ROOT = osp.abspath(args.against)
        sys.path.insert(0, ROOT)
        dump(args.dump, args.steps, args.only, args.distill_batch)
        return 0
    import torch

    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, root in (("ours", HERE), ("theirs", osp.abspath(args.against))):
            paths[name] = osp.join(tmp, f"{name}.pt")
            env = dict(os.environ, PYTHONPATH=root, OMP_NUM_THREADS="1")
            subprocess.run([sys.executable, osp.abspath(__file__), "--against", root, "--steps", str(args.steps),
                            "--only", *args.only, "--distill-batch", str(args.distill_batch), "--dump", paths[name]],
                           env=env, check=True, cwd=root)
        return compare(torch.load(paths["ours"]), torch.load(paths["theirs"]))


if __name__ == "__main__":
    sys.exit(main())
