"""BaseAlgorithm: wraps a model and speaks mmcv's runner protocol.

An algorithm is what ``cfg.algorithm`` builds: ``dict(type='gml.X', model=dict(type='mmcls.ImageClassifier', ...),
**kwargs)``. It owns the wrapped model as ``self.model`` (so checkpoint keys are ``model.<...>``) and exposes what
mmcv's runners and mmcls's test loop call:

- ``train_step(data, optimizer)`` -> ``dict(loss, log_vars, num_samples)``; the runner's OptimizerHook then
  back-propagates ``loss`` and steps the optimizer (an algorithm that steps optimizers itself overrides
  ``train_step`` and the config sets ``optimizer_config=None``);
- ``val_step(data, optimizer=None)`` -> the same dict, without gradients being required;
- ``forward(img, return_loss=True, **kwargs)`` -> ``forward_train`` (a dict of losses) or ``forward_test``
  (a list of per-sample results, as mmcls's ``single_gpu_test`` expects).

Subclasses add their logic by overriding ``forward_train`` (e.g. sample subnets, distil) and/or ``simple_test``;
the defaults delegate to the wrapped model, so ``BaseAlgorithm`` itself trains exactly like the bare model.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.distributed as dist
from mmcv.runner import BaseModule
from torch import nn

from ..builder import build_model
from ..registry import ALGORITHMS


def host_floats(values: Sequence[torch.Tensor]) -> List[float]:
    """The values of the scalar tensors ``values`` as python floats (exactly ``float(v)`` each), read in one
    device-to-host transfer: a GPU step synchronises once instead of once per value."""
    return torch.stack(list(values)).tolist() if values else []


def _total(values: Iterable):
    """The sum of ``values`` (0 when there is none), started from the first one rather than from python's 0:
    ``0 + loss`` is the same value and gradient but a scalar add (a few host operators) more."""
    values = iter(values)
    total = next(values, 0)
    for value in values:
        total = total + value
    return total


@ALGORITHMS.register_module()
class BaseAlgorithm(BaseModule):
    """Wrap ``model`` (a config dict built through gml's MODELS, or an ``nn.Module``).

    ``CLASSES`` set on the algorithm (mmcls's train loop does) is forwarded to the model too.

    ``steps_optimizer``: False here (``train_step`` returns a ``loss`` for the runner's OptimizerHook). A subclass
    whose ``train_step`` back-propagates and steps the optimizer itself sets it to True; gml's ``train_model`` then
    refuses a config with an ``optimizer_config`` (or ``fp16``), which would add a second, failing optimizer step.
    """

    steps_optimizer: bool = False
    #: True for a weight-sharing supernet (its BatchNorm statistics fit no single subnet: tools recalibrate them
    #: before scoring or testing one, see gml.models.subnet_test); False for a model trained as one network.
    is_supernet: bool = False

    def __init__(self, model: Union[Mapping, nn.Module], init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        if isinstance(model, nn.Module):
            self.model = model
        elif isinstance(model, Mapping):
            self.model = build_model(model)
        else:
            raise TypeError(f"{type(self).__name__}: 'model' must be a config dict or an nn.Module, got {model!r}")
        self._register_load_state_dict_pre_hook(self._accept_bare_model_keys)

    # --- the runner protocol -------------------------------------------------------------------------------
    def forward(self, img=None, return_loss: bool = True, **kwargs):
        if return_loss:
            return self.forward_train(img, **kwargs)
        return self.forward_test(img, **kwargs)

    def forward_train(self, img, **kwargs) -> Dict[str, torch.Tensor]:
        """A dict of losses (tensors or lists of tensors), as mmcls classifiers return."""
        return self.model.forward_train(img, **kwargs)

    def forward_test(self, imgs, **kwargs):
        """mmcls's convention: one tensor (or a one-element list) -> :meth:`simple_test`; several -> ``aug_test``."""
        if isinstance(imgs, torch.Tensor):
            imgs = [imgs]
        if len(imgs) == 1:
            return self.simple_test(imgs[0], **kwargs)
        return self.aug_test(imgs, **kwargs)

    def simple_test(self, img, img_metas=None, **kwargs):
        return self.model.simple_test(img, img_metas, **kwargs)

    def aug_test(self, imgs, **kwargs):
        if not hasattr(self.model, "aug_test"):
            raise NotImplementedError(f"{type(self.model).__name__} does not support test-time augmentation")
        return self.model.aug_test(imgs, **kwargs)

    def train_step(self, data: dict, optimizer=None) -> dict:
        losses = self(**data)
        loss, log_vars = self.parse_losses(losses)
        return dict(loss=loss, log_vars=log_vars, num_samples=self._num_samples(data))

    def val_step(self, data: dict, optimizer=None, **kwargs) -> dict:
        losses = self(**data)
        loss, log_vars = self.parse_losses(losses)
        return dict(loss=loss, log_vars=log_vars, num_samples=self._num_samples(data))

    def build_optimizers(self, optimizer_cfg: Mapping, wrapped: nn.Module):
        """The runner's optimizer(s) from the config's ``optimizer``: here one, over ``wrapped`` (this algorithm as
        the runner holds it, e.g. in DistributedDataParallel), as mmcv builds it. An algorithm with several
        optimizers returns a dict of them (mmcv runners accept either)."""
        from mmcv.runner import build_optimizer
        return build_optimizer(wrapped, optimizer_cfg)

    def runner_hooks(self) -> List[Tuple[object, str]]:
        """``(hook, priority)`` pairs that gml's ``train_model`` registers on the runner for this algorithm (e.g.
        pretraining before the first epoch); none here."""
        return []

    # --- helpers ---------------------------------------------------------------------------------------------
    @staticmethod
    def _num_samples(data: dict) -> int:
        img = data.get("img")
        if img is None:
            return 0
        return len(getattr(img, "data", img))

    @staticmethod
    def parse_losses(losses: Mapping) -> Tuple[torch.Tensor, "OrderedDict[str, float]"]:
        """Sum every entry whose name contains ``loss`` into the total; ``log_vars`` holds each entry's mean
        (averaged over processes when distributed) and ``loss``, read to the host in one transfer."""
        loss, log_vars = BaseAlgorithm.loss_tensors(losses)
        return loss, BaseAlgorithm.log_floats(log_vars)

    @staticmethod
    def loss_tensors(losses: Mapping) -> Tuple[torch.Tensor, "OrderedDict[str, object]"]:
        """:meth:`parse_losses` without reading anything to the host: the total loss and ``log_vars`` as
        tensors (or the numbers a dict entry held), for a step that reads its logged values once at its end
        (:meth:`log_floats`). A scalar loss is its own mean and is taken as it is (``.mean()`` of one element
        returns the same value and gradient, at the cost of a few operators forward and backward)."""
        log_vars: "OrderedDict[str, object]" = OrderedDict()
        for name, value in losses.items():
            if isinstance(value, torch.Tensor):
                log_vars[name] = value if value.dim() == 0 else value.mean()
            elif isinstance(value, (list, tuple)):
                log_vars[name] = _total(v if v.dim() == 0 else v.mean() for v in value)
            elif isinstance(value, dict):
                for sub_name, sub_value in value.items():
                    log_vars[f"{name}.{sub_name}"] = sub_value
            else:
                raise TypeError(f"loss {name!r} is {type(value).__name__}; expected a tensor or a list of tensors")
        loss = _total(v for k, v in log_vars.items() if "loss" in k)
        log_vars["loss"] = loss
        return loss, log_vars

    @staticmethod
    @torch.no_grad()  # what is read needs no graph: no detach() (nor reshape of a scalar) per value
    def log_floats(log_vars: Mapping[str, object], local: Sequence[str] = ()) -> "OrderedDict[str, float]":
        """``log_vars`` (one-element tensors or numbers) as python floats, read in one device-to-host transfer
        (:func:`host_floats`; one per device when the tensors lie on several); when distributed, the tensors not
        named in ``local`` are first averaged over the processes (one all-reduce)."""
        names = [name for name, value in log_vars.items() if isinstance(value, torch.Tensor)]
        values = [value if value.dim() == 0 else value.reshape(()) for value in map(log_vars.get, names)]
        shared = [index for index, name in enumerate(names) if name not in local]
        if shared and dist.is_available() and dist.is_initialized():
            stacked = torch.stack([values[index] for index in shared])
            dist.all_reduce(stacked.div_(dist.get_world_size()))
            for index, value in zip(shared, stacked):
                values[index] = value
        read: Dict[str, float] = {}
        for device in dict.fromkeys(value.device for value in values):  # one transfer per device (normally one)
            on_device = [index for index, value in enumerate(values) if value.device == device]
            read.update(zip([names[i] for i in on_device], host_floats([values[i] for i in on_device])))
        return OrderedDict((name, read[name] if name in read else float(value)) for name, value in log_vars.items())

    @property
    def CLASSES(self):  # noqa: N802 (mmcls's attribute name)
        return getattr(self.model, "CLASSES", None)

    @CLASSES.setter
    def CLASSES(self, value):  # noqa: N802
        self.model.CLASSES = value

    def _accept_bare_model_keys(self, state_dict, prefix, *args) -> None:
        """Let a checkpoint of the bare model (keys ``backbone.*``) load into the algorithm (keys
        ``model.backbone.*``): when no key carries ``model.``, every key is moved under it."""
        own = f"{prefix}model."
        keys = [k for k in state_dict if k.startswith(prefix)]
        if not keys or any(k.startswith(own) for k in keys):
            return
        for key in keys:
            state_dict[own + key[len(prefix):]] = state_dict.pop(key)
