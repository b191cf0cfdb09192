"""The evaluation loop behind tools/test.py: one process, or several (torchrun / Slurm) on CUDA and on CPU.

With CUDA, distributed testing is mmcls's ``multi_gpu_test`` unchanged (results gathered over the GPU with
``gpu_collect``, else through part files in ``tmpdir``). mmcls's default collection (no ``tmpdir``) makes a CUDA
tensor to share the temporary directory's name, so on CPU process groups (gloo) gml runs its own loop instead and
gathers every rank's results on rank 0 with ``torch.distributed.gather_object`` (no shared filesystem needed). An
explicit ``tmpdir`` on CPU keeps mmcls's file-based collection, which is CPU-safe then.

Contract of :func:`run_test`: rank 0 gets one result per dataset sample, in dataset order; other ranks get ``None``.
"""
from __future__ import annotations

from typing import List, Optional

import mmcv
import torch
import torch.distributed as dist
from mmcls.apis import multi_gpu_test, single_gpu_test
from mmcv.runner import get_dist_info

from ..errors import GmlConfigError


def run_test(model, loader, device: str, distributed: bool, tmpdir: Optional[str] = None,
             gpu_collect: bool = False) -> Optional[list]:
    """Evaluate the wrapped ``model`` on ``loader`` (see the module's contract)."""
    if not distributed:
        return single_gpu_test(model, loader)
    if device == "cuda":
        return multi_gpu_test(model, loader, tmpdir, gpu_collect)
    if gpu_collect:
        raise GmlConfigError("--gpu-collect", "collecting results over the GPU needs CUDA; on CPU leave it out")
    if tmpdir:
        return multi_gpu_test(model, loader, tmpdir, False)
    return _cpu_multi_process_test(model, loader)


def _cpu_multi_process_test(model, loader) -> Optional[list]:
    model.eval()
    dataset = loader.dataset
    rank, world_size = get_dist_info()
    progress = mmcv.ProgressBar(len(dataset)) if rank == 0 else None
    part: list = []
    for data in loader:
        with torch.no_grad():
            result = model(return_loss=False, **data)
        part.extend(result if isinstance(result, list) else [result])
        if progress is not None:
            for _ in range(data["img"].size(0) * world_size):
                progress.update()
    parts: Optional[List[list]] = [None] * world_size if rank == 0 else None
    dist.gather_object(part, parts, dst=0)
    if rank != 0:
        return None
    return interleave(parts, len(dataset))


def interleave(parts: List[list], size: int) -> list:
    """Undo a distributed sampler without shuffling: rank ``r`` holds samples ``r, r + W, r + 2W, ...``; the
    sampler's padding (repeated samples at the end) is cut off at ``size``."""
    ordered = []
    for index in range(max((len(p) for p in parts), default=0)):
        ordered.extend(p[index] for p in parts if index < len(p))
    return ordered[:size]
