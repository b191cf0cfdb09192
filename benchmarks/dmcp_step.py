#!/usr/bin/env python
"""A DMCP training step vs plain training steps of the same networks as static models, same batch, in one run.

    python benchmarks/dmcp_step.py [--config configs/pruning/dmcp/dmcp_resnet_digits16.py] [--batch 64]
        [--size 16] [--repeats 10] [--threads 1] [--device cpu|cuda] [--memory]
    python benchmarks/dmcp_step.py --imagenet resnet50 --size 224 --batch 32 --device cuda --memory

Measures (median over ``--repeats``, interleaved so machine load hits all alike):
- ``weight``: DMCP's weight step over the config's sampling plan (max, min, scheduled_random, arch_random ...),
  the sampled structures fixed so every repeat runs the same subnets (forward/backward each, one SGD step);
- ``static_sum``: the same subnets built as plain static networks (``gml.PrunedBackbone``): the sum of their
  forward/backward times plus one SGD step, i.e. the weight step without slicing;
- ``arch``: DMCP's architecture step (max width, keep-probability scaling, FLOPs loss, Adam on the alphas);
- ``static_max``: one plain step (forward, backward, SGD step) of the max network as a static model.
Prints the slicing overhead ``weight / static_sum - 1`` (goal < 15%) and ``arch / static_max`` (goal < 1.5x).

``--memory`` adds peak memory of a full DMCP iteration (weight + architecture step) vs a plain step of the static
max network, each in a fresh child process: ``torch.cuda.max_memory_allocated`` over the allocation before the
steps on CUDA; on CPU two figures: the peak resident set size during the steps (sampled every millisecond) over the
size before them, which includes what the C allocator keeps after frees (glibc's growing mmap threshold) and the
per-shape kernel caches, and the peak of live tensor bytes of one more iteration (``torch.profiler`` with
``profile_memory``: every CPU tensor allocation and free), the CPU counterpart of CUDA's figure (goal < 1.3x).
``--memory-only`` skips the timings.
"""
from __future__ import annotations

import argparse
import copy
import json
import os.path as osp
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

from step_benchmark import profile_steps, seeded_config, step_parser  # noqa: E402


def _imagenet_model(backbone: dict, channels: int) -> dict:
    return dict(type="mmcls.ImageClassifier", backbone=backbone, neck=dict(type="mmcls.GlobalAveragePooling"),
                head=dict(type="mmcls.LinearClsHead", num_classes=1000, in_channels=channels,
                          loss=dict(type="mmcls.CrossEntropyLoss")))


#: ImageNet-size mmcls classifiers (``--imagenet``), unchanged from mmcls's own configs.
IMAGENET_MODELS = {
    "resnet18": _imagenet_model(dict(type="mmcls.ResNet", depth=18), 512),
    "resnet50": _imagenet_model(dict(type="mmcls.ResNet", depth=50), 2048),
    "mobilenet_v2": _imagenet_model(dict(type="mmcls.MobileNetV2", widen_factor=1.0), 1280),
}


def parse_args(argv=None):
    p = step_parser(__doc__.splitlines()[0], "configs/pruning/dmcp/dmcp_resnet_digits16.py", repeats=10, warmup=2,
                    size=16, size_help="image size (the config's mutator.input_shape is set to it)", device=True)
    p.add_argument("--imagenet", choices=["resnet18", "resnet50", "mobilenet_v2"],
                   help="replace the config's model by this mmcls ImageNet model (1000 classes; use --size 224)")
    p.add_argument("--memory", action="store_true", help="also measure peak memory (child processes on CPU)")
    p.add_argument("--memory-only", action="store_true", help="measure memory only (implies --memory)")
    p.add_argument("--profile", action="store_true",
                   help="also profile one of each step (torch.profiler): host time, device kernel time, launches, "
                        "and the operators that take the most host time")
    p.add_argument("--memory-parts", action="store_true",
                   help="with --memory: also the weight step alone and the architecture step alone")
    p.add_argument("--memory-child", choices=["dmcp", "static_max", "weight_step", "arch_step"],
                   help=argparse.SUPPRESS)
    return p.parse_args(argv)


def setup(args):
    import torch

    from gml.models import build_algorithm, build_model
    from gml.models.mutators.dmcp import supernet_flops_range

    cfg = seeded_config(args)
    device = torch.device(args.device)
    algorithm_cfg = copy.deepcopy(cfg.algorithm)
    if args.imagenet:
        algorithm_cfg["model"] = IMAGENET_MODELS[args.imagenet]
    algorithm_cfg["mutator"]["input_shape"] = (3, args.size, args.size)
    algorithm_cfg["mutator"]["seed"] = 0
    algorithm_cfg["algorithm_cfg"]["arch_start_train"] = 0
    low, high = supernet_flops_range(algorithm_cfg["model"], algorithm_cfg["mutator"])
    algorithm_cfg["floss_cfg"]["target_flops"] = (low + high) / 2  # reachable for any model
    alg = build_algorithm(algorithm_cfg).to(device).train()
    optimizers = alg.build_optimizers(dict(type="SGD", lr=0.01, momentum=0.9))
    img = torch.randn(args.batch, 3, args.size, args.size, device=device)
    label = torch.randint(0, 1000 if args.imagenet else 10, (args.batch,), device=device)
    plan = [alg.mutator.sample(kind, 10, 0) for kind in alg.mutator.plan]
    statics = [build_model(alg.plain_model_cfg(choice)).to(device).train() for choice in plan]
    return alg, optimizers, img, label, plan, statics, device


def fixed_plan(alg, plan):
    """Make the mutator replay ``plan`` (the same subnets every step)."""
    replay = iter(())

    def sample(kind, iteration, arch_start):
        return next(replay)

    def reset():
        nonlocal replay
        replay = iter(plan)
    alg.mutator.sample = sample
    return reset


def memory_child(args) -> int:
    import torch

    alg, optimizers, img, label, plan, statics, device = setup(args)
    reset = fixed_plan(alg, plan)
    static_opt = torch.optim.SGD(statics[0].parameters(), lr=0.01, momentum=0.9)
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    else:
        sampler = _RssSampler()
        before = sampler.peak

    def step():
        if args.memory_child in ("dmcp", "weight_step"):
            reset()
            alg._weight_step(img, label, optimizers["weight"], 10)
        if args.memory_child in ("dmcp", "arch_step"):
            alg._arch_step(img, label, optimizers["architecture"])
        if args.memory_child == "static_max":
            static_opt.zero_grad()
            statics[0].forward_train(img, label)["loss"].backward()
            static_opt.step()

    for _ in range(3):
        step()
    peak = torch.cuda.max_memory_allocated() if cuda else sampler.stop()
    result = dict(before=before, peak=peak, added=peak - before)
    if not cuda:
        result["tensors"] = _tensor_peak(step)
    print(json.dumps(result))
    return 0


def _tensor_peak(step) -> int:
    """The peak of live CPU tensor bytes allocated during ``step()`` over those live before it: the profiler's
    memory events carry the running total of the allocations it saw ("Total Allocated")."""
    import tempfile

    import torch

    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, "trace.json")
        prof.export_chrome_trace(path)
        with open(path) as handle:
            events = [e["args"] for e in json.load(handle)["traceEvents"] if e.get("name") == "[memory]"]
    totals = [e["Total Allocated"] for e in events]
    start = totals[0] - events[0]["Bytes"]
    return max(totals) - start


def _rss_now() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


class _RssSampler:
    """The peak resident set size of this process from now until :meth:`stop`, sampled every millisecond (the
    kernel's own peak, ``ru_maxrss``, cannot be reset and would include building the models)."""

    def __init__(self):
        import threading

        self.peak = _rss_now()
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while self._running:
            self.peak = max(self.peak, _rss_now())
            time.sleep(0.001)

    def stop(self) -> int:
        self._running = False
        self._thread.join()
        return max(self.peak, _rss_now())


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.memory_child:
        return memory_child(args)
    import torch

    if args.memory_only:
        measure_memory(args, argv, torch.device(args.device))
        return 0
    alg, optimizers, img, label, plan, statics, device = setup(args)
    sync = (lambda: torch.cuda.synchronize()) if device.type == "cuda" else (lambda: None)
    reset = fixed_plan(alg, plan)
    static_opts = [torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9) for m in statics]

    def weight_step():
        reset()
        alg._weight_step(img, label, optimizers["weight"], 10)

    def static_pass(index):
        static_opts[index].zero_grad()
        statics[index].forward_train(img, label)["loss"].backward()

    def static_max_step():
        static_pass(0)
        static_opts[0].step()

    def timed(fn):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        return time.perf_counter() - start

    for _ in range(args.warmup):
        weight_step(), alg._arch_step(img, label, optimizers["architecture"]), static_max_step()
    rounds = {"weight": [], "static_sum": [], "arch": [], "static_max": []}
    for _ in range(args.repeats):
        rounds["weight"].append(timed(weight_step))
        rounds["static_sum"].append(sum(timed(lambda i=i: static_pass(i)) for i in range(len(statics)))
                                    + timed(static_opts[0].step))
        rounds["arch"].append(timed(lambda: alg._arch_step(img, label, optimizers["architecture"])))
        rounds["static_max"].append(timed(static_max_step))
    med = {k: statistics.median(v) for k, v in rounds.items()}
    flops = [alg.mutator.flops_of(choice) for choice in plan]
    print(f"device={device.type} threads={args.threads} batch={args.batch}x3x{args.size}x{args.size} "
          f"repeats={args.repeats} config={args.config}")
    print("plan: " + ", ".join(f"{k.value} {f:.2f} MFLOPs" for k, f in zip(alg.mutator.plan, flops)))
    print(f"DMCP weight step       {med['weight'] * 1e3:8.1f} ms")
    print(f"static same subnets    {med['static_sum'] * 1e3:8.1f} ms")
    print(f"DMCP architecture step {med['arch'] * 1e3:8.1f} ms")
    print(f"static max step        {med['static_max'] * 1e3:8.1f} ms")
    overhead = (med["weight"] / med["static_sum"] - 1) * 100
    print(f"slicing overhead (weight step / same subnets static - 1): {overhead:+.1f}%")
    print(f"architecture step / plain max step: {med['arch'] / med['static_max']:.2f}x")
    if args.profile:
        steps = {"DMCP weight step": weight_step,
                 "static same subnets": lambda: [static_pass(i) for i in range(len(statics))],
                 "DMCP architecture step": lambda: alg._arch_step(img, label, optimizers["architecture"]),
                 "static max step": static_max_step}
        profile_steps(steps, sync, device, tables_for=("DMCP weight step", "DMCP architecture step"))
    if args.memory:
        measure_memory(args, argv, device)
    return 0


def measure_memory(args, argv, device) -> None:
    """Run the memory children and print their figures (see the module docstring)."""
    results = {}
    children = ["dmcp", "static_max"] + (["weight_step", "arch_step"] if args.memory_parts else [])
    for child in children:
        cmd = [sys.executable, osp.abspath(__file__), *(argv or sys.argv[1:]), "--memory-child", child]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        results[child] = json.loads(out.strip().splitlines()[-1])
    figures = [("CUDA max_memory_allocated" if device.type == "cuda" else "peak RSS", "added")]
    if device.type != "cuda":
        figures.append(("peak live tensor bytes", "tensors"))
    for kind, field in figures:
        added = {child: result[field] for child, result in results.items()}
        ratio = added["dmcp"] / max(added["static_max"], 1)
        print(f"peak memory added by the steps ({kind}): DMCP iteration {added['dmcp'] / 2**20:.1f} MiB, "
              f"plain max step {added['static_max'] / 2**20:.1f} MiB, ratio {ratio:.2f}x")
        if args.memory_parts:
            print(f"  parts: weight step alone {added['weight_step'] / 2**20:.1f} MiB, architecture step alone "
                  f"{added['arch_step'] / 2**20:.1f} MiB")


if __name__ == "__main__":
    sys.exit(main())
