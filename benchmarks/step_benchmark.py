"""What the training-step benchmarks (bignas_step.py, distill_step.py, dmcp_step.py, qat_step.py) share: their
common options, the seeded, thread-limited start of a measurement and the ``--profile`` table."""
from __future__ import annotations

import argparse
import time
from typing import Callable, Iterable, Mapping


def step_parser(description: str, config: str, repeats: int, warmup: int, size: int = 32,
                size_help: str = None, device: bool = False) -> argparse.ArgumentParser:
    """A parser with ``--config`` (default ``config``), ``--batch`` (64), ``--size`` (``size``), ``--repeats``,
    ``--warmup``, ``--threads`` (1) and, with ``device``, ``--device`` (cpu), in that order; a script adds its own
    options after them."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--config", default=config)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--size", type=int, default=size, help=size_help)
    p.add_argument("--repeats", type=int, default=repeats)
    p.add_argument("--warmup", type=int, default=warmup)
    p.add_argument("--threads", type=int, default=1)
    if device:
        p.add_argument("--device", default="cpu")
    return p


def seeded_config(args):
    """Set torch to ``args.threads`` intra-op threads and seed 0 (gml's models registered first), and return the
    mmcv Config of ``args.config``."""
    import torch

    import gml.models  # noqa: F401  (first: it silences mmcv's import notices and registers gml's classes)
    from mmcv import Config

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    return Config.fromfile(args.config)


def profile_steps(steps: Mapping[str, Callable[[], object]], sync: Callable[[], None], device,
                  tables_for: Iterable[str] = (), top: int = 8) -> None:
    """Profile one run of each of ``steps`` (name -> callable) and print a row per step: its host (CPU) time, the
    device's kernel time (nan on CPU) and the number of kernels it launched (a step whose host time exceeds its
    kernel time waits on Python and launches, not on the GPU), and its host operators (``aten::`` calls, the same
    count on any device: the figure to compare on CPU). Then, for each name in ``tables_for``, the operators that
    take the most host time in that step."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    width = max([24] + [len(name) for name in steps])
    print(f"{'profile (one step)':{width}s} {'host ms':>9s} {'kernel ms':>10s} {'kernels':>8s} {'host ops':>9s}")
    tables = {}
    for name, fn in steps.items():
        sync()
        with profile(activities=activities) as prof:
            start = time.perf_counter()
            fn()
            sync()
            host = time.perf_counter() - start
        events = prof.key_averages()
        kernels = [e for e in prof.events() if e.device_type.name == "CUDA"]
        kernel_ms = sum(e.device_time_total for e in kernels) / 1e3 if kernels else float("nan")
        host_ops = sum(e.count for e in events if e.device_type.name == "CPU" and e.key.startswith("aten::"))
        print(f"{name:{width}s} {host * 1e3:9.1f} {kernel_ms:10.1f} {len(kernels):8d} {host_ops:9d}")
        if name in tables_for:
            tables[name] = events.table(sort_by="self_cpu_time_total", row_limit=top, max_name_column_width=40)
    for name, table in tables.items():
        print(f"\n{name}: operators by self host time\n{table}")
