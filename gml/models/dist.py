"""Distributed set-up for tools/train.py and tools/test.py, on CUDA and on CPU.

On a machine with CUDA this is mmcv's ``init_dist`` (NCCL by default) and mmcv's ``MMDistributedDataParallel`` with
one device per process, exactly as OpenMMLab's tools do. mmcv assumes GPUs there (it calls
``torch.cuda.set_device``), so without CUDA gml initialises the process group itself with the ``gloo`` backend from
the same environment (``RANK``/``WORLD_SIZE``/``MASTER_ADDR``/``MASTER_PORT`` set by ``torchrun``, or Slurm's
``SLURM_PROCID``/``SLURM_NTASKS``/``SLURM_NODELIST``) and wraps the model for CPU data parallelism.
"""
from __future__ import annotations

import enum
import os
import subprocess
from typing import Optional

import torch
import torch.distributed as dist

from ..errors import GmlConfigError


class Launcher(str, enum.Enum):
    NONE = "none"
    PYTORCH = "pytorch"
    SLURM = "slurm"


DEFAULT_PORT = 29500


def _slurm_env(port: Optional[int]) -> None:
    """Translate Slurm's task variables into torch.distributed's env:// variables (existing ones win)."""
    try:
        proc_id = int(os.environ["SLURM_PROCID"])
        ntasks = int(os.environ["SLURM_NTASKS"])
        node_list = os.environ["SLURM_NODELIST"]
    except KeyError as err:
        raise GmlConfigError("--launcher", f"'slurm' needs the Slurm task environment; {err.args[0]} is not set") \
            from None
    if "MASTER_ADDR" not in os.environ:
        out = subprocess.run(["scontrol", "show", "hostnames", node_list], capture_output=True, text=True)
        hosts = out.stdout.split()
        os.environ["MASTER_ADDR"] = hosts[0] if hosts else "127.0.0.1"
    if port is not None:
        os.environ["MASTER_PORT"] = str(port)
    os.environ.setdefault("MASTER_PORT", str(DEFAULT_PORT))
    os.environ["WORLD_SIZE"] = str(ntasks)
    os.environ["RANK"] = str(proc_id)
    os.environ.setdefault("LOCAL_RANK", os.environ.get("SLURM_LOCALID", "0"))


def init_distributed(launcher: str, backend: Optional[str] = None, port: Optional[int] = None, **kwargs) -> bool:
    """Start torch.distributed for ``launcher``; return whether the run is distributed ('none' -> False).

    ``backend`` defaults to 'nccl' with CUDA and 'gloo' without. Extra ``kwargs`` (a config's ``dist_params``) go
    to ``init_process_group``.
    """
    try:
        launcher = Launcher(launcher)
    except ValueError:
        raise GmlConfigError("--launcher", f"must be one of {[m.value for m in Launcher]}, got {launcher!r}") \
            from None
    if launcher is Launcher.NONE:
        return False
    if torch.cuda.is_available() and backend != "gloo":
        from mmcv.runner import init_dist

        if port is not None:
            kwargs["port"] = port
        init_dist(launcher.value, backend=backend or "nccl", **kwargs)
        return True
    if launcher is Launcher.SLURM:
        _slurm_env(port)
    elif port is not None:
        os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group(backend=backend or "gloo", **kwargs)
    return True


def wrap_model(model: torch.nn.Module, device: str, distributed: bool, find_unused_parameters: bool = False):
    """Wrap ``model`` the way mmcv's runners expect (``train_step``/``val_step`` on the wrapper).

    CUDA: ``MMDataParallel`` / ``MMDistributedDataParallel`` on the current device. CPU: ``MMDataParallel`` without
    devices (it unpacks ``DataContainer`` inputs as on GPU), or ``MMDistributedDataParallel`` without device ids
    (gradients all-reduced over gloo) when distributed.
    """
    from mmcv.parallel import MMDataParallel, MMDistributedDataParallel

    if device == "cuda":
        if distributed:
            return MMDistributedDataParallel(model.cuda(), device_ids=[torch.cuda.current_device()],
                                             broadcast_buffers=False, find_unused_parameters=find_unused_parameters)
        return MMDataParallel(model.cuda(), device_ids=[torch.cuda.current_device()])
    if device != "cpu":
        raise GmlConfigError("device", f"gml's tools run on 'cuda' or 'cpu', got {device!r}")
    model = model.cpu()
    if distributed:
        return MMDistributedDataParallel(model, broadcast_buffers=False, find_unused_parameters=find_unused_parameters)
    return MMDataParallel(model)


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"
