#!/usr/bin/env python
"""The Python part of a BigNAS sandwich4 step's host time, under cProfile, for the code of one or two gml trees.

    python benchmarks/bignas_python_time.py [--against OTHER_TREE] [--batch 2] [--steps 20] [--top 0]

With the code of this tree (and first, in a child process, with that of ``--against``), builds the BigNAS algorithm of
``configs/nas/bignas/bignas_mobilenetv3_digits.py`` with strategy sandwich4, warms up, and prints per sandwich step
(the same four subnets every step: the mutator is re-seeded): the wall time (lowest of ``--steps`` unprofiled
steps), ``mutator.set_random()`` in microseconds (mean of 200), and over ``--steps`` steps under cProfile the total
profiled time and the time spent in Python functions themselves (cProfile's ``tottime`` of every function that is
not a built-in, i.e. without torch's C calls and the kernels). A small batch makes the host part dominate. With
``--top N`` the N Python functions with the most ``tottime`` follow. The timings vary with machine load: run it
a few times and compare the lowest figures.
"""
from __future__ import annotations

import argparse
import copy
import cProfile
import os.path as osp
import pstats
import subprocess
import sys
import time

HERE = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--against", help="root of another gml tree (e.g. a checkout of main), measured the same way")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--top", type=int, default=0)
    p.add_argument("--tree", help="measure the code of this gml tree instead of this script's own")
    return p.parse_args()


def measure(args, tree: str) -> None:
    import torch

    import gml.models  # noqa: F401  (registers gml's classes)
    from gml.models import build_algorithm
    from mmcv import Config

    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg = Config.fromfile(osp.join(tree, "configs/nas/bignas/bignas_mobilenetv3_digits.py"))
    algorithm_cfg = copy.deepcopy(cfg.algorithm)
    algorithm_cfg["strategy"] = "sandwich4"
    alg = build_algorithm(algorithm_cfg).train()
    data = dict(img=torch.randn(args.batch, 3, 32, 32), gt_label=torch.randint(0, 10, (args.batch,)))
    optimizer = torch.optim.SGD(alg.parameters(), lr=0.01, momentum=0.9)

    def step():
        alg.mutator.rng.seed(1234)
        alg.train_step(data, optimizer)

    for _ in range(3):
        step()
    wall = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        wall.append(time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(200):
        alg.mutator.set_random()
    set_random_us = (time.perf_counter() - start) / 200 * 1e6
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.steps):
        step()
    profiler.disable()
    stats = pstats.Stats(profiler)
    python_s = sum(entry[2] for where, entry in stats.stats.items() if where[0] != "~")  # "~": built-ins
    code_root = osp.dirname(osp.dirname(osp.abspath(gml.__file__)))  # the tree whose code ran
    print(f"{code_root}: step {min(wall) * 1e3:.1f} ms; set_random {set_random_us:.0f} us; under cProfile per step: "
          f"{stats.total_tt / args.steps * 1e3:.1f} ms in all, {python_s / args.steps * 1e3:.1f} ms in Python "
          f"functions", flush=True)
    if args.top:
        stats.sort_stats("tottime").print_stats(r"\.py", args.top)


def main() -> int:
    args = parse_args()
    tree = osp.abspath(args.tree or HERE)
    if args.against:  # that tree first, in a child process of its own (its code, this script)
        code = subprocess.call([sys.executable, osp.abspath(__file__), "--tree", args.against,
                                "--batch", str(args.batch), "--steps", str(args.steps), "--top", str(args.top)])
        if code:
            return code
    sys.path.insert(0, tree)
    measure(args, tree)
    return 0


if __name__ == "__main__":
    sys.exit(main())
