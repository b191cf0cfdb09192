"""Distributed set-up for tools/train.py and tools/test.py, on CUDA and on CPU.

On a machine with CUDA this is mmcv's ``init_dist`` (NCCL by default) and mmcv's ``MMDistributedDataParallel`` (with
a fix for PyTorch 2) with one device per process, exactly as OpenMMLab's tools do. mmcv assumes GPUs there (it calls
``torch.cuda.set_device``), so without CUDA gml initialises the process group itself with the ``gloo`` backend from
the same environment (``RANK``/``WORLD_SIZE``/``MASTER_ADDR``/``MASTER_PORT`` set by ``torchrun``, or Slurm's
``SLURM_PROCID``/``SLURM_NTASKS``/``SLURM_NODELIST``) and wraps the model for CPU data parallelism.
"""
from __future__ import annotations

import enum
import gc
import os
import subprocess
import warnings
from collections import defaultdict
from typing import Iterable, Optional

import torch
import torch.distributed as dist
from torch import nn
from mmcv.parallel import MMDataParallel, MMDistributedDataParallel

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
    _import_before_the_group_exists()
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


def _import_before_the_group_exists() -> None:
    """Import ``torch._dynamo`` (which DDP's constructor loads) while no process group exists yet.

    Imported while a default group exists, it keeps a reference to that group (so do ``torch.distributed.fsdp``
    and ``torch._inductor``, which it imports): ``destroy_process_group`` then leaves the group, and with a gloo
    group its communication threads, alive until the interpreter exits. A peer closing its connections while this
    process tears the interpreter down then aborts it ("terminate called without an active exception"). Imported
    first, nothing holds the group and :func:`shutdown_distributed` ends its threads.
    """
    import torch._dynamo  # noqa: F401


def shutdown_distributed() -> None:
    """End this process's part of a distributed run, if there is one: wait until every process got here (so no
    process exits while another may still need it), then destroy the process group.

    A gloo group's threads end here when nothing else holds the group any more; a DDP wrapper holds it until the
    wrapper is freed, so call this after the model is gone (tools/train.py: after training returns; unreachable
    wrappers, e.g. in a runner's reference cycles, are collected here first). A thread left running can abort the
    process at exit (see :func:`_import_before_the_group_exists`)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        gc.collect()
        dist.destroy_process_group()


class DistributedDataParallel(MMDistributedDataParallel):
    """mmcv's ``MMDistributedDataParallel`` made to work with PyTorch >= 2 and on CPU.

    mmcv 1.7.2's ``_run_ddp_forward`` reads ``_use_replicated_tensor_module``, which PyTorch 2 removed, so every
    plain forward (the evaluation hooks' ``model(return_loss=False, ...)``) fails; and without device ids it
    passes mmcv ``DataContainer`` inputs through unpacked. Here both paths unpack inputs as mmcv does for
    CPU (``scatter`` to device -1) when there are no device ids, and forward to the module directly.
    """

    def _unpack(self, inputs, kwargs):
        inputs, kwargs = self.scatter(inputs, kwargs, [-1])
        return inputs[0], kwargs[0]

    def _run_ddp_forward(self, *inputs, **kwargs):
        if self.device_ids:
            inputs, kwargs = self.to_kwargs(inputs, kwargs, self.device_ids[0])
            return self.module(*inputs[0], **kwargs[0])
        inputs, kwargs = self._unpack(inputs, kwargs)
        return self.module(*inputs, **kwargs)

    def train_step(self, *inputs, **kwargs):
        if not self.device_ids:
            inputs, kwargs = self._unpack(inputs, kwargs)
        if getattr(self.module, "steps_optimizer", False):
            return self._self_stepping_train_step(inputs, kwargs)
        return super().train_step(*inputs, **kwargs)

    def _self_stepping_train_step(self, inputs, kwargs):
        """``train_step`` of an algorithm that back-propagates and steps its optimizers itself (``steps_optimizer``,
        e.g. gml.BigNAS, gml.DMCP), with DDP's gradient reducer left out.

        The reducer averages the gradients of ONE backward pass per forward through this wrapper, armed after
        ``train_step`` returns. Such an algorithm runs several forward/backward passes inside ``train_step`` (one
        per subnet, an architecture pass) and steps before returning: the reducer would stay idle in the first
        iteration and then fire, wrongly, in the middle of the next one (PyTorch stops it with "Expected to mark a
        variable ready only once"). So the reducer is never armed here, and the algorithm averages its
        accumulated gradients itself with :func:`average_gradients` before each optimizer step.
        """
        if self._check_sync_bufs_pre_fwd():
            self._sync_buffers()
        if self.device_ids:
            inputs, kwargs = self.to_kwargs(inputs, kwargs, self.device_ids[0])
            output = self.module.train_step(*inputs[0], **kwargs[0])
        else:
            output = self.module.train_step(*inputs, **kwargs)
        if self._check_sync_bufs_post_fwd():
            self._sync_buffers()
        return output

    def val_step(self, *inputs, **kwargs):
        if not self.device_ids:
            inputs, kwargs = self._unpack(inputs, kwargs)
        return super().val_step(*inputs, **kwargs)


def average_gradients(parameters: Iterable[nn.Parameter]) -> None:
    """Average the gradients of ``parameters`` over the processes of the default group, in place; nothing happens
    when the run is not distributed.

    For algorithms that step their optimizers themselves (``steps_optimizer``; see
    :meth:`DistributedDataParallel._self_stepping_train_step`): call it once per optimizer step, after the last
    backward pass and before gradient clipping and ``optimizer.step()``. Every process must call it with the same
    parameters in the same order. A parameter with no gradient on some processes but one on others counts as zero
    where it has none; one with no gradient anywhere keeps none (the optimizer skips it, as without DDP). The
    gradients travel as one flat tensor per dtype and device.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    params = [p for p in parameters if p.requires_grad]
    if not params:
        return
    has_grad = torch.tensor([float(p.grad is not None) for p in params], device=params[0].device)
    dist.all_reduce(has_grad)
    buckets = defaultdict(list)
    for param, count in zip(params, has_grad.tolist()):
        if count == 0:
            continue
        if param.grad is None:
            param.grad = torch.zeros_like(param)
        buckets[(param.grad.dtype, param.grad.device)].append(param.grad)
    world_size = dist.get_world_size()
    for grads in buckets.values():
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        flat.div_(world_size)
        offset = 0
        for grad in grads:
            grad.copy_(flat[offset:offset + grad.numel()].view_as(grad))
            offset += grad.numel()


def broadcast_tensors(tensors: Iterable[torch.Tensor], src: int = 0) -> None:
    """Overwrite ``tensors`` on every process with process ``src``'s values, in place (one flat broadcast per
    dtype and device); nothing happens when the run is not distributed. Every process must call it with tensors of
    the same shapes in the same order."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return
    buckets = defaultdict(list)
    for tensor in tensors:
        buckets[(tensor.dtype, tensor.device)].append(tensor)
    for group in buckets.values():
        flat = torch.cat([t.detach().reshape(-1) for t in group])
        dist.broadcast(flat, src)
        offset = 0
        with torch.no_grad():
            for tensor in group:
                tensor.copy_(flat[offset:offset + tensor.numel()].view_as(tensor))
                offset += tensor.numel()


def wrap_model(model: torch.nn.Module, device: str, distributed: bool, find_unused_parameters: bool = False):
    """Wrap ``model`` the way mmcv's runners expect (``train_step``/``val_step`` on the wrapper).

    CUDA: ``MMDataParallel`` / :class:`DistributedDataParallel` on the current device. CPU: ``MMDataParallel``
    without devices (it unpacks ``DataContainer`` inputs as on GPU), or :class:`DistributedDataParallel` without
    device ids (gradients all-reduced over gloo) when distributed.
    """
    if device == "cuda":
        if distributed:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=r"`broadcast_buffers` is deprecated", category=FutureWarning)
                return DistributedDataParallel(model.cuda(), device_ids=[torch.cuda.current_device()],
                                               broadcast_buffers=False, find_unused_parameters=find_unused_parameters)
        return MMDataParallel(model.cuda(), device_ids=[torch.cuda.current_device()])
    if device != "cpu":
        raise GmlConfigError("device", f"gml's tools run on 'cuda' or 'cpu', got {device!r}")
    model = model.cpu()
    if distributed:
        with warnings.catch_warnings():  # PyTorch 2.13 renames broadcast_buffers; mmcv's wrapper still passes it
            warnings.filterwarnings("ignore", message=r"`broadcast_buffers` is deprecated", category=FutureWarning)
            return DistributedDataParallel(model, broadcast_buffers=False,
                                           find_unused_parameters=find_unused_parameters)
    return MMDataParallel(model)


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def add_launcher_arguments(parser) -> None:
    """A tool's ``--launcher`` (none, pytorch: under torchrun, slurm: under srun) and ``--local_rank`` (also
    ``--local-rank``, as older launchers pass it; the tool exports it as ``LOCAL_RANK`` unless the launcher did)."""
    parser.add_argument("--launcher", choices=["none", "pytorch", "slurm"], default="none")
    parser.add_argument("--local_rank", "--local-rank", type=int, default=0)


def select_device(args, cfg) -> str:
    """The device a tool runs on: ``args.device``, else the config's ``device``, else :func:`default_device`; on
    CUDA without a launcher (``args.launcher`` none) the GPU ``args.gpu_id`` is made current."""
    device = args.device or cfg.get("device") or default_device()
    if device == "cuda" and args.launcher == "none":
        torch.cuda.set_device(args.gpu_id)
    return device
