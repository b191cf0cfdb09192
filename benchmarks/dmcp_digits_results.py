#!/usr/bin/env python
"""DMCP on digits vs the full model vs uniform width scaling at the same FLOPs, same schedule, several seeds.

    python benchmarks/dmcp_digits_results.py [--config configs/pruning/dmcp/dmcp_resnet_digits16.py]
        [--targets 0.5 0.3] [--seeds 0 1 2] [--jobs 2] [--out work_dirs/results]

1. trains one DMCP supernet per target (fraction of the full model's MFLOPs; seed 0) with tools/train.py;
2. takes each supernet's expected structure (``model_sample/expected.yaml``) and writes the uniform-scaling
   structure of the same MFLOPs and the full model's structure (benchmarks/dmcp_uniform_structure.py);
3. retrains every structure from scratch with the config's schedule for every seed (tools/train.py
   ``algorithm.retraining=True algorithm.channel_cfg=...``: one code path for DMCP and the baselines);
4. prints a table of top-1 on the validation split (mean, std, per seed) with each structure's MFLOPs.
Runs whose final checkpoint exists are not run again. Children run with ``nice -n 10`` and one thread.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default="configs/pruning/dmcp/dmcp_resnet_digits16.py")
    p.add_argument("--targets", type=float, nargs="+", default=[0.5, 0.3])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", default="work_dirs/results")
    return p.parse_args(argv)


def run(args, *extra, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS="1")
    proc = subprocess.run(["nice", "-n", "10", sys.executable, *args, *extra], cwd=cwd, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


def max_epochs(config):
    """The config's epochs. Main thread only: mmcv's Config.fromfile is not thread-safe."""
    from mmcv import Config

    return Config.fromfile(config).runner.max_epochs


def train(config, epochs, work_dir, seed, *options):
    final = osp.join(work_dir, f"epoch_{epochs}.pth")
    if not osp.exists(final):
        run(["tools/train.py", config, "--work-dir", work_dir, "--seed", str(seed), "--cfg-options", *options])
    return work_dir


def final_top1(work_dir):
    logs = sorted(f for f in os.listdir(work_dir) if f.endswith(".log.json"))
    rows = [json.loads(line) for line in open(osp.join(work_dir, logs[-1]))]
    return [r for r in rows if r.get("mode") == "val"][-1]["accuracy_top-1"]


def main(argv=None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, ROOT)
    import gml.models  # noqa: F401
    from gml.models.mutators.dmcp import read_structure, supernet_flops_range
    from mmcv import Config

    cfg = Config.fromfile(osp.join(ROOT, args.config))
    full = supernet_flops_range(cfg.algorithm["model"], cfg.algorithm["mutator"])[1]
    epochs = max_epochs(osp.join(ROOT, args.config))
    os.makedirs(osp.join(ROOT, args.out), exist_ok=True)

    def supernet(fraction):
        target = round(fraction * full, 2)
        work_dir = osp.join(args.out, f"supernet_t{target}")
        train(args.config, epochs, work_dir, 0, f"algorithm.floss_cfg.target_flops={target}")
        return fraction, osp.join(work_dir, "model_sample", "expected.yaml")

    with ThreadPoolExecutor(args.jobs) as pool:
        dmcp = dict(pool.map(supernet, args.targets))
    structures = {"full": osp.join(args.out, "full.yaml")}
    run(["benchmarks/dmcp_uniform_structure.py", args.config, "--full", "--out", structures["full"]])
    for fraction, path in dmcp.items():
        structures[f"dmcp_{fraction:g}"] = path
        structures[f"uniform_{fraction:g}"] = osp.join(args.out, f"uniform_{fraction:g}.yaml")
        run(["benchmarks/dmcp_uniform_structure.py", args.config, "--like", path, "--out",
             structures[f"uniform_{fraction:g}"]])

    jobs = [(name, seed) for seed in args.seeds for name in structures]

    def retrain(job):
        name, seed = job
        work_dir = osp.join(args.out, f"retrain_{name}_s{seed}")
        train(args.config, epochs, work_dir, seed, "algorithm.retraining=True",
              f"algorithm.channel_cfg={structures[name]}",
              f"evaluation.interval={epochs}", "search_eval_cfg=None")
        return job, final_top1(osp.join(ROOT, work_dir))

    with ThreadPoolExecutor(args.jobs) as pool:
        top1 = dict(pool.map(retrain, jobs))
    mutator_flops = {}
    for name, path in structures.items():
        import yaml

        mutator_flops[name] = yaml.safe_load(open(osp.join(ROOT, path)))["mflops"]
    print(f"config={args.config} epochs={epochs} seeds={args.seeds} full={full:.3f} MFLOPs")
    print(f"{'structure':<14}{'MFLOPs':>9}{'% full':>8}{'top-1 mean':>12}{'std':>7}  per seed")
    for name in structures:
        values = [top1[(name, seed)] for seed in args.seeds]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"{name:<14}{mutator_flops[name]:>9.3f}{100 * mutator_flops[name] / full:>7.1f}%"
              f"{statistics.mean(values):>12.2f}{std:>7.2f}  " + " ".join(f"{v:.2f}" for v in values))
    for name, path in structures.items():
        print(f"{name}: {json.dumps(read_structure(osp.join(ROOT, path)))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
