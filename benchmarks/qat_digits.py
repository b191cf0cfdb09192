#!/usr/bin/env python
"""QAT on digits end to end, through gml's tools, over several seeds: float model vs its int8 QAT version.

    python benchmarks/qat_digits.py [--model resnet18|mobilenet_v2] [--quantizer eager|pt2e] [--seeds 0 1]
        [--work-dir work_dirs/qat_bench]

Per seed, as child processes (one torch thread each):
1. ``tools/train.py configs/digits/<model>_digits.py --seed S`` (the float model, its own schedule);
2. ``tools/train.py configs/quantization/qat_<model>_digits.py --load-from <float>/latest.pth --seed S``
   (QAT fine-tuning, the QAT config's schedule; ``--quantizer pt2e``: ``qat_pt2e_<model>_digits.py``, i.e.
   gml.PT2EQuantizer; the float runs are shared between the two quantizers);
3. ``tools/quantize.py`` on the QAT checkpoint (int8 model, its accuracy, sizes);
4. ``tools/test.py`` on the float checkpoint (the float accuracy on the same test split);
5. the float model fine-tuned from its checkpoint with the QAT config's schedule (optimizer lr, lr_config, epochs)
   and tested: the fair float reference, since the int8 model trained those epochs more.

Prints per seed and as mean (spread = max - min) the top-1 accuracy of the float model, the float model fine-tuned
alike, the fake-quant and int8 models, int8 minus fine-tuned float (goal: within 1 point), and the float-weights /
int8-state size ratio (goal: about 4x). Every run's JSON lands in
``--work-dir``; a seed whose files are already there is not rerun. Latency: benchmarks/qat_step.py.
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=["resnet18", "mobilenet_v2"], default="resnet18")
    p.add_argument("--quantizer", choices=["eager", "pt2e"], default="eager",
                   help="eager: gml.TorchDefaultQuantizer (qat_<model>_digits.py); pt2e: gml.PT2EQuantizer "
                        "(qat_pt2e_<model>_digits.py)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--work-dir", default=osp.join(ROOT, "work_dirs", "qat_bench"))
    p.add_argument("--model-options", nargs="+", default=[],
                   help="KEY=VALUE overrides of the model for both runs, e.g. backbone.base_channels=16 "
                        "(given as model.KEY to the float run and algorithm.model.KEY to the QAT run)")
    return p.parse_args()


def _run(tool: str, *args: str) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=ROOT)
    env.pop("GML_JOB_DIR", None)
    proc = subprocess.run([sys.executable, osp.join(ROOT, "tools", tool), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{tool} {' '.join(args)} failed:\n{proc.stderr[-3000:]}")


def _options(prefix: str, model_options) -> list:
    return ["--cfg-options", *(prefix + o for o in model_options)] if model_options else []


def _schedule_options(qat_cfg: str) -> list:
    """``--cfg-options`` giving a float run the QAT config's optimizer, lr schedule and epochs."""
    from mmcv import Config

    cfg = Config.fromfile(qat_cfg)
    options = [f"optimizer.lr={cfg.optimizer.lr}", f"runner.max_epochs={cfg.runner.max_epochs}"]
    options += [f"lr_config.{k}={v}" for k, v in cfg.lr_config.items()]
    return options


def run_seed(model: str, quantizer: str, seed: int, work: str, model_options) -> dict:
    float_cfg = osp.join(ROOT, "configs", "digits", f"{model}_digits.py")
    qat_name = f"qat_{model}_digits" if quantizer == "eager" else f"qat_pt2e_{model}_digits"
    qat_cfg = osp.join(ROOT, "configs", "quantization", f"{qat_name}.py")
    suffix = "" if quantizer == "eager" else "_pt2e"  # the eager runs keep the names they had before pt2e
    float_dir, qat_dir = osp.join(work, "float"), osp.join(work, "qat" + suffix)
    float_json, int8_json = osp.join(work, "float_test.json"), osp.join(work, f"quantize{suffix}.json")
    if not osp.exists(osp.join(float_dir, "latest.pth")):
        _run("train.py", float_cfg, "--work-dir", float_dir, "--seed", str(seed), "--device", "cpu",
             *_options("model.", model_options))
    if not osp.exists(float_json):
        _run("test.py", float_cfg, osp.join(float_dir, "latest.pth"), "--out", float_json, "--device", "cpu",
             *_options("model.", model_options))
    if not osp.exists(osp.join(qat_dir, "latest.pth")):
        _run("train.py", qat_cfg, "--work-dir", qat_dir, "--seed", str(seed), "--device", "cpu",
             "--load-from", osp.join(float_dir, "latest.pth"), *_options("algorithm.model.", model_options))
    # The float model fine-tuned with the QAT config's schedule: the fair float reference for the int8 model,
    # which has trained that much longer than the float checkpoint it started from.
    finetune_dir, finetune_json = osp.join(work, "float_finetune"), osp.join(work, "float_finetune_test.json")
    schedule = _schedule_options(qat_cfg)
    if not osp.exists(osp.join(finetune_dir, "latest.pth")):
        _run("train.py", float_cfg, "--work-dir", finetune_dir, "--seed", str(seed), "--device", "cpu",
             "--load-from", osp.join(float_dir, "latest.pth"),
             "--cfg-options", *schedule, *("model." + o for o in model_options))
    if not osp.exists(finetune_json):
        _run("test.py", float_cfg, osp.join(finetune_dir, "latest.pth"), "--out", finetune_json, "--device", "cpu",
             *_options("model.", model_options))
    if not osp.exists(int8_json):
        _run("quantize.py", qat_cfg, osp.join(qat_dir, "latest.pth"), "--out-dir", osp.join(work, "int8" + suffix),
             "--out", int8_json, *_options("algorithm.model.", model_options))
    with open(float_json) as f:
        float_acc = json.load(f)["metrics"]["accuracy_top-1"]
    with open(int8_json) as f:
        quantized = json.load(f)
    with open(finetune_json) as f:
        finetune_acc = json.load(f)["metrics"]["accuracy_top-1"]
    return dict(seed=seed, float=float_acc, float_finetuned=finetune_acc, fake_quant=quantized["fake_quant"]["accuracy_top-1"],
                int8=quantized["int8"]["accuracy_top-1"], size_ratio=quantized["size_ratio"],
                float_bytes=quantized["float_weights_bytes"], int8_bytes=quantized["int8_state_bytes"])


def main() -> int:
    from gml.cli.common import table

    args = parse_args()
    tag = "_".join([args.model, *args.model_options]).replace("=", "")
    rows = [run_seed(args.model, args.quantizer, seed, osp.join(args.work_dir, tag, f"seed{seed}"),
                     args.model_options) for seed in args.seeds]
    for row in rows:
        row["int8_minus_float_ft"] = row["int8"] - row["float_finetuned"]
    keys = ["float", "float_finetuned", "fake_quant", "int8", "int8_minus_float_ft", "size_ratio"]
    lines = [[r["seed"], *(r[k] for k in keys)] for r in rows]
    mean = [statistics.mean(r[k] for r in rows) for k in keys]
    spread = [max(r[k] for r in rows) - min(r[k] for r in rows) for k in keys]
    print(f"{args.model} {' '.join(args.model_options)}, {args.quantizer} quantizer, on digits "
          f"(test split = val, 360 images), top-1 %:")
    print(table(lines + [["mean", *mean], ["spread", *spread]], ["seed", *keys]))
    print(f"int8 - float fine-tuned alike (mean): {mean[4]:+.2f} points; float weights / int8 state: "
          f"{mean[5]:.2f}x")
    with open(osp.join(args.work_dir, f"{tag}_{args.quantizer}_summary.json"), "w") as f:
        json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
