"""BatchNorm recalibration: the running statistics a subnet of a supernet needs are not those the supernet
accumulated while training many subnets, so before a subnet is evaluated or exported its statistics are
re-estimated on training batches (BigNAS, section 3.3)."""
from __future__ import annotations

from typing import Callable, Iterable

import torch
from torch import nn


def recalibrate_bn(model: nn.Module, batches: Iterable, forward: Callable[[object], object],
                   num_iters: int = -1) -> int:
    """Reset every BatchNorm's running statistics and re-estimate them as the exact average over the first
    ``num_iters`` batches (all when ``num_iters < 0``), calling ``forward(batch)`` in train mode without
    gradients. Momentum and the model's mode are restored afterwards. Returns the number of batches used.

    Only BatchNorm statistics change; dropout / drop-path layers should be inactive (probability 0) meanwhile.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    saved_momentum = [m.momentum for m in norms]
    was_training = model.training
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average: every batch weighs the same
    model.train()
    used = 0
    try:
        with torch.no_grad():
            for batch in batches:
                if 0 <= num_iters <= used:
                    break
                forward(batch)
                used += 1
    finally:
        for m, momentum in zip(norms, saved_momentum):
            m.momentum = momentum
        model.train(was_training)
    return used
