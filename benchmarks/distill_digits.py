"""Student alone vs distilled on scikit-learn's digits: the same config, schedule and seeds, with and without the
teacher. Runs tools/train.py as child processes (CPU, one thread each), reads each run's last validation accuracy
from its mmcv JSON log, and prints per-seed accuracies, mean and standard deviation, and the mean difference.

    python benchmarks/distill_digits.py --seeds 0 1 2 \
        --teacher-ckpt work_dirs/teacher_mbv2/latest.pth --out benchmarks/results/distill_digits.json

``--distilled-config`` picks the distilled run's config (default: logits KD), e.g.
``configs/distill/rkd_mobilenet_v2_to_resnet18_w8_digits.py`` for relational KD; the alone runs are the same.

The teacher must be trained first (configs/digits/mobilenet_v2_digits.py); with --train-teacher the script trains
it into the --teacher-ckpt's folder when the file is missing.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
ALONE = "configs/distill/resnet18_w8_digits.py"
DISTILLED = "configs/distill/kd_logits_mobilenet_v2_to_resnet18_w8_digits.py"
TEACHER = "configs/digits/mobilenet_v2_digits.py"


def train(config: str, work_dir: str, seed: int, options) -> float:
    """Run tools/train.py; returns the wall time in seconds."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=ROOT)
    for key in ("GML_JOB_DIR", "GML_TASK", "GML_JOB_ID"):
        env.pop(key, None)
    command = [sys.executable, osp.join(ROOT, "tools", "train.py"), config, "--work-dir", work_dir,
               "--seed", str(seed)] + (["--cfg-options", *options] if options else [])
    start = time.time()
    with open(osp.join(work_dir + ".out"), "w") as log:
        proc = subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}); see {work_dir}.out")
    return time.time() - start


def last_val_accuracy(work_dir: str) -> float:
    logs = sorted(f for f in os.listdir(work_dir) if f.endswith(".log.json"))
    rows = [json.loads(line) for line in open(osp.join(work_dir, logs[-1]))]
    return [r for r in rows if r.get("mode") == "val"][-1]["accuracy_top-1"]


def summary(values):
    return dict(mean=statistics.mean(values), std=statistics.stdev(values) if len(values) > 1 else 0.0,
                min=min(values), max=max(values))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--teacher-ckpt", default="work_dirs/teacher_mbv2/latest.pth")
    parser.add_argument("--train-teacher", action="store_true")
    parser.add_argument("--work-root", default="work_dirs/distill_digits")
    parser.add_argument("--out", help="JSON file for the per-seed results")
    parser.add_argument("--distilled-config", default=DISTILLED, help="config of the distilled runs")
    parser.add_argument("--cfg-options", nargs="*", default=[], help="applied to both the alone and the KD runs")
    args = parser.parse_args(argv)
    os.makedirs(osp.join(ROOT, args.work_root), exist_ok=True)
    teacher = osp.join(ROOT, args.teacher_ckpt)
    if not osp.isfile(teacher):
        if not args.train_teacher:
            raise SystemExit(f"no teacher checkpoint {teacher}: train it first or pass --train-teacher")
        train(TEACHER, osp.dirname(teacher), 0, [])
    results = {"alone": {}, "distilled": {}, "seconds": {"alone": {}, "distilled": {}}}
    distilled_tag = osp.splitext(osp.basename(args.distilled_config))[0]
    for seed in args.seeds:
        for name, config, extra in (("alone", ALONE, []),
                                    ("distilled", args.distilled_config,
                                     [f"algorithm.distiller.distill_cfg.ckpt_path={teacher}"])):
            # the default config's runs keep their folder names; another distilled config gets its own folders
            tag = name if name == "alone" or args.distilled_config == DISTILLED else distilled_tag
            work = osp.join(ROOT, args.work_root, f"{tag}_seed{seed}")
            os.makedirs(work, exist_ok=True)
            results["seconds"][name][seed] = round(train(config, work, seed, args.cfg_options + extra), 1)
            results[name][seed] = last_val_accuracy(work)
            print(f"seed {seed} {name}: val top-1 {results[name][seed]:.2f} "
                  f"({results['seconds'][name][seed]:.0f} s)", flush=True)
    alone, kd = (list(results[k].values()) for k in ("alone", "distilled"))
    results["summary"] = {"alone": summary(alone), "distilled": summary(kd),
                          "mean_gain": statistics.mean(kd) - statistics.mean(alone),
                          "seeds_where_distilled_wins": sum(k > a for k, a in zip(kd, alone))}
    print(f"\n{'':10s} {'mean':>7s} {'std':>6s} {'min':>7s} {'max':>7s}  per seed")
    for name, values in (("alone", alone), ("distilled", kd)):
        s = results["summary"][name]
        print(f"{name:10s} {s['mean']:7.2f} {s['std']:6.2f} {s['min']:7.2f} {s['max']:7.2f}  "
              + " ".join(f"{v:.2f}" for v in values))
    print(f"distilled - alone (mean): {results['summary']['mean_gain']:+.2f} points; distilled better on "
          f"{results['summary']['seeds_where_distilled_wins']}/{len(args.seeds)} seeds")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
