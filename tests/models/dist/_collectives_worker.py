"""Run under ``python -m torch.distributed.run --nproc_per_node 2`` by test_collectives.py: exercises
gml.models.dist.average_gradients, broadcast_tensors and gml.models.evaluation.gather_in_dataset_order on a real
gloo group and writes what this rank saw to ``<out_dir>/rank<r>.json``."""
import json
import os
import sys

import torch
import torch.distributed as dist
from torch import nn

import gml.models  # noqa: F401  (installs what mmcv needs before mmcls imports it)
from gml.models.dist import average_gradients, broadcast_tensors
from gml.models.evaluation import gather_in_dataset_order


class Numbers(torch.utils.data.Dataset):
    def __len__(self):
        return 7  # odd: the distributed sampler repeats one sample to even out the two shares

    def __getitem__(self, index):
        return torch.tensor([float(index)])


def main(out_dir):
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    shared = nn.Parameter(torch.zeros(3))
    only_on_rank1 = nn.Parameter(torch.zeros(2))
    unused = nn.Parameter(torch.zeros(2))
    shared.grad = torch.full((3,), float(rank + 1))  # 1 on rank 0, 2 on rank 1: average 1.5
    if rank == 1:
        only_on_rank1.grad = torch.full((2,), 4.0)  # counts as 0 on rank 0: average 2
    average_gradients([shared, only_on_rank1, unused])
    # a float, an int and a uint8 tensor (scales, zero points, observer flags) take rank 0's values
    state = [torch.full((2, 2), float(rank) + 0.5), torch.tensor([rank * 7], dtype=torch.int32),
             torch.tensor([rank], dtype=torch.uint8)]
    broadcast_tensors(state)

    from mmcls.datasets import build_dataloader

    loader = build_dataloader(Numbers(), samples_per_gpu=2, workers_per_gpu=0, dist=True, shuffle=False,
                              persistent_workers=False,
                              round_up=True)
    share = [batch[i].numpy() * 10 for batch in loader for i in range(len(batch))]
    gathered = gather_in_dataset_order(share, loader)
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as handle:
        json.dump(dict(shared=shared.grad.tolist(), only_on_rank1=only_on_rank1.grad.tolist(),
                       unused=unused.grad is None, broadcast=[t.flatten().tolist() for t in state],
                       share=[float(s[0]) for s in share],
                       gathered=[float(g[0]) for g in gathered]), handle)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
