"""Run under ``python -m torch.distributed.run --nproc_per_node 2`` by test_shutdown.py: starts the group with
gml.models.dist.init_distributed, trains one step of a DDP-wrapped model (gml.models.dist.wrap_model), ends with
shutdown_distributed and writes the names of the threads still running to ``<out_dir>/rank<r>.json``."""
import json
import os
import sys

import torch

import gml.models  # noqa: F401  (installs what mmcv needs before mmcls imports it)
from gml.models.dist import init_distributed, shutdown_distributed, wrap_model


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.linear(x)


def thread_names() -> list:
    return sorted(open(f"/proc/self/task/{task}/comm").read().strip() for task in os.listdir("/proc/self/task"))


def train_one_step() -> list:
    """One step of a DDP model, as tools/train.py's runner does; the model is gone when it returns."""
    model = wrap_model(Tiny(), "cpu", distributed=True)
    model(torch.ones(3, 4)).sum().backward()  # the reducer all-reduces the gradients over gloo
    return model.module.linear.bias.grad.tolist()


def main(out_dir):
    init_distributed("pytorch")
    rank = torch.distributed.get_rank()
    grad = train_one_step()
    during = thread_names()
    shutdown_distributed()
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as handle:
        json.dump(dict(during=during, after=thread_names(), grad=grad), handle)


if __name__ == "__main__":
    main(sys.argv[1])
