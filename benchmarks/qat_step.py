#!/usr/bin/env python
"""A QAT training step vs a float step, and float vs int8 inference latency on CPU, same model, one run.

    python benchmarks/qat_step.py [--config configs/quantization/qat_resnet18_digits.py] [--backend fbgemm]
        [--batches 1 64] [--repeats 20] [--threads 1] [--qat-checkpoint work_dirs/.../latest.pth]
        [--cfg-options algorithm.model.backbone.base_channels=16 ...]
    python benchmarks/qat_step.py --device cuda --train-only

The float model is the config's ``algorithm.model`` built by mmcls; the QAT model is ``cfg.algorithm`` (the same
weights: the float state dict is loaded into it); the int8 model is that QAT model converted. Measures (median over
``--repeats`` after warm-up, the two sides timed alternately; ``--threads`` torch threads):

- ``train``: one step (forward + loss, backward, SGD step) at the training batch size of the config, float vs QAT;
- ``infer@B``: ``simple_test(img, post_process=False)`` (backbone, neck, head, softmax) under ``torch.no_grad()``
  at each batch size B, float (eval mode) vs int8;
- the serialized size of the float state dict vs the int8 state dict.

Prints the ratios ``qat_step / float_step`` and ``float / int8`` latency (> 1: int8 is faster) and the size ratio.

With ``gml.PT2EQuantizer`` (configs/quantization/qat_pt2e_*.py) the int8 graph as converted is torchao's reference
representation (quantize/dequantize around float operators); its int8 kernels come from Inductor. So PT2E adds
``infer@B, compiled``: the float backbone+neck and the int8 graph each lowered by ``torch.compile`` (Inductor,
frozen weights; compiled during warm-up), head and softmax eager in both, float vs int8.
Without ``--qat-checkpoint`` the fake-quantizers are calibrated by a few QAT steps on random images first (latency
does not depend on the values; accuracy is benchmarks/qat_digits.py's job).

``--device cuda`` runs the training step (float vs fake-quantized QAT) on the GPU, each step ending with
``torch.cuda.synchronize()``; int8 conversion and int8 kernels are CPU-only, so it implies ``--train-only``, which
measures the training row alone (no conversion, no inference rows, no sizes).
"""
from __future__ import annotations

import argparse
import copy
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from step_benchmark import seeded_config  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default="configs/quantization/qat_resnet18_digits.py")
    p.add_argument("--backend", default=None, help="override algorithm.quantizer.backend")
    p.add_argument("--batches", type=int, nargs="+", default=[1, 64])
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--qat-checkpoint", default=None)
    p.add_argument("--cfg-options", nargs="+", default=[],
                   help="KEY=VALUE config overrides, e.g. algorithm.model.backbone.base_channels=16")
    p.add_argument("--device", default="cpu", help="where the training step runs (int8 inference: CPU only)")
    p.add_argument("--train-only", action="store_true",
                   help="measure the training step only (implied by a device other than cpu)")
    args = p.parse_args()
    args.train_only = args.train_only or args.device != "cpu"
    return args


def paired_medians(first, second, repeats: int, warmup: int, sync=lambda: None):
    """Median seconds of ``first()`` and of ``second()``, timed alternately so that a change in the machine's load
    (shared CPUs) affects both alike; ``sync()`` waits for queued device work before and after each call."""
    for _ in range(warmup):
        first()
        second()
    times_first, times_second = [], []
    for _ in range(repeats):
        for fn, times in ((first, times_first), (second, times_second)):
            sync()
            start = time.perf_counter()
            fn()
            sync()
            times.append(time.perf_counter() - start)
    return statistics.median(times_first), statistics.median(times_second)


def compiled_rows(float_model, int8, args):
    """Inference rows with both sides' backbone+neck compiled by Inductor (PT2E: where its int8 kernels come from)."""
    import torch

    from gml.models.quantization.pt2e import Features, lower_to_cpu_kernels

    float_compiled = copy.deepcopy(float_model)
    float_compiled.backbone = lower_to_cpu_kernels(Features(float_compiled.backbone, float_compiled.neck))
    float_compiled.neck = None
    int8.model.backbone = lower_to_cpu_kernels(int8.model.backbone)
    rows = []
    for batch in args.batches:
        x = torch.randn(batch, 3, args.size, args.size)
        with torch.no_grad():
            t_float, t_int8 = paired_medians(lambda: float_compiled.simple_test(x, post_process=False),
                                             lambda: int8.simple_test(x, post_process=False),
                                             args.repeats, max(args.warmup, 2))
        rows.append([f"inference batch {batch}, compiled", t_float * 1e3, t_int8 * 1e3, t_float / t_int8])
    return rows


def main() -> int:
    import torch

    from gml.cli.common import table
    from gml.models import build_algorithm, build_model  # first: where torchvision is missing, gml's stand-in
    from mmcv.runner import load_checkpoint  # noqa: I100  (... must be in place before mmcv.runner imports)
    from gml.models.quantization import PT2EQuantizer, export

    args = parse_args()
    cfg = seeded_config(args)
    if args.cfg_options:
        from mmcv import DictAction

        options = argparse.ArgumentParser()
        options.add_argument("--o", nargs="+", action=DictAction)
        cfg.merge_from_dict(options.parse_args(["--o", *args.cfg_options]).o)
    if args.backend:
        cfg.algorithm.quantizer.backend = args.backend
    float_model = build_model(copy.deepcopy(cfg.algorithm.model))
    qat = build_algorithm(cfg.algorithm)
    if args.qat_checkpoint:
        load_checkpoint(qat, args.qat_checkpoint, map_location="cpu", logger="silent")
    else:
        qat.load_state_dict(float_model.state_dict(), strict=True)
    device = torch.device(args.device)
    float_model.to(device)
    qat.to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    train_batch = cfg.data.samples_per_gpu
    img = torch.randn(train_batch, 3, args.size, args.size, device=device)
    label = torch.randint(0, 10, (train_batch, ), device=device)

    def step(module, optimizer):
        def run():
            losses = module.forward_train(img, gt_label=label)
            loss = sum(v for k, v in losses.items() if "loss" in k)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return run

    float_model.train()
    qat.train()
    float_train, qat_train = paired_medians(step(float_model, torch.optim.SGD(float_model.parameters(), lr=1e-4)),
                                            step(qat, torch.optim.SGD(qat.parameters(), lr=1e-4)),
                                            args.repeats, args.warmup, sync)
    train_row = ["train step (batch %d)" % train_batch, float_train * 1e3, qat_train * 1e3, qat_train / float_train]
    if args.train_only:
        print(f"{osp.basename(args.config)}, backend {qat.quantizer.backend}, device {device.type}, "
              f"{args.threads} thread(s), {args.size}x{args.size} images, median of {args.repeats}, training only")
        print(table([train_row], ["what", "float ms", "qat ms", "ratio"]))
        print("ratio: train = qat_step / float_step (fake-quantized forward/backward vs float)")
        return 0

    float_model.eval()
    int8 = qat.convert()
    float_bytes = export.serialized_bytes(float_model.state_dict())
    int8_bytes = export.serialized_bytes(int8.model.state_dict())
    rows = [train_row]
    for batch in args.batches:
        x = torch.randn(batch, 3, args.size, args.size)
        with torch.no_grad():
            t_float, t_int8 = paired_medians(lambda: float_model.simple_test(x, post_process=False),
                                             lambda: int8.simple_test(x, post_process=False),
                                             args.repeats, args.warmup)
        rows.append([f"inference batch {batch}", t_float * 1e3, t_int8 * 1e3, t_float / t_int8])
    if isinstance(int8.quantizer, PT2EQuantizer):
        rows += compiled_rows(float_model, int8, args)
    print(f"{osp.basename(args.config)}, backend {int8.quantizer.backend}, {args.threads} thread(s), "
          f"{args.size}x{args.size} images, median of {args.repeats}")
    print(table(rows, ["what", "float ms", "qat/int8 ms", "ratio"]))
    print("ratio: train = qat_step / float_step; inference = float / int8 (> 1: int8 faster)")
    print(f"size: float state {float_bytes} B, int8 state {int8_bytes} B, {float_bytes / int8_bytes:.2f}x smaller")
    return 0


if __name__ == "__main__":
    sys.exit(main())
