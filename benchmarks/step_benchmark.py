"""What the training-step benchmarks (bignas_step.py, distill_step.py, dmcp_step.py, qat_step.py) share: their
common options and the seeded, thread-limited start of a measurement."""
from __future__ import annotations

import argparse


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
