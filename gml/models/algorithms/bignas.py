"""``BigNAS``: train a slimmable supernet with the sandwich rule and in-place distillation (Yu et al., 2020).

Each training iteration of ``strategy='sandwichN'`` runs ``N`` subnets on the same batch: the largest, ``N - 2``
random ones and the smallest. Each subnet's loss is back-propagated right after its forward (so only one
subnet's graph is alive at a time); gradients accumulate in the shared weights and the optimizer steps **once**.
With a head in ``distiller_mode='soft'`` the largest subnet learns from the labels and every other subnet from the
largest one's (detached) softmax: in-place distillation. ``drop_ratio`` (dropout before the classifier) and
``drop_path_ratio`` (stochastic depth, growing linearly to the given value over the residual blocks) apply to the
largest subnet only; smaller subnets run without them, as BigNAS prescribes.

Because the algorithm steps the optimizer itself, BigNAS configs set ``optimizer_config = None`` (no mmcv
OptimizerHook); ``optimizer_config``'s ``grad_clip`` moves to ``algorithm.grad_clip``.

``mutable_cfg`` (a subnet YAML written by the mutator / tools/search_subnet.py, or a dict) fixes the subnet:
training then trains only that subnet on the shared weights (one forward/backward per step, hard labels) and
testing evaluates it. Otherwise, outside training the largest subnet is active.

Spellings from GML's configs are accepted: ``'sandwish4'`` for ``'sandwich4'``, ``'sandwich'``/``'sandwish'``
alone meaning 4.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from typing import Mapping, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from ...errors import GmlConfigError
from ..builder import build_mutator
from ..dist import average_gradients
from ..ops import DropPath, gradients_into_slices
from ..registry import ALGORITHMS
from .base import BaseAlgorithm

_STRATEGY = re.compile(r"^sandwi(?:ch|sh)(\d*)$")


def parse_strategy(strategy: str) -> int:
    """Number of subnets per iteration of ``'sandwichN'`` (N >= 2; ``'sandwish'`` spelling accepted)."""
    match = _STRATEGY.match(strategy) if isinstance(strategy, str) else None
    if not match:
        raise GmlConfigError("algorithm.strategy", f"expected 'sandwichN' (e.g. 'sandwich4'), got {strategy!r}")
    count = int(match.group(1) or 4)
    if count < 2:
        raise GmlConfigError("algorithm.strategy", f"a sandwich needs at least max and min (N >= 2), got {count}")
    return count


@ALGORITHMS.register_module()
class BigNAS(BaseAlgorithm):
    steps_optimizer = True  # one optimizer step per sandwich, in train_step: configs set optimizer_config = None
    is_supernet = True

    def __init__(self, model: Union[Mapping, nn.Module], mutator: Optional[dict] = None,
                 strategy: str = "sandwich4", drop_ratio: float = 0.0, drop_path_ratio: float = 0.0,
                 mutable_cfg: Optional[Union[str, dict]] = None, grad_clip: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(model, init_cfg)
        self.num_subnets = parse_strategy(strategy)
        for key, value in (("drop_ratio", drop_ratio), ("drop_path_ratio", drop_path_ratio)):
            if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise GmlConfigError(f"algorithm.{key}", f"must be in [0, 1), got {value!r}")
        self.drop_ratio = float(drop_ratio)
        self.drop_path_ratio = float(drop_path_ratio)
        self.grad_clip = dict(grad_clip) if grad_clip else None
        self.mutator = build_mutator(mutator or dict(type="gml.StatelessMutator"))
        self.mutator.prepare_from_supernet(self.model)
        self.fixed_choice = self.mutator.load(mutable_cfg, "algorithm.mutable_cfg") if mutable_cfg else None
        head = getattr(self.model, "head", None)
        self.distill = getattr(head, "distiller_mode", None) == "soft"
        # found once: a sandwich step switches them for every subnet, and the supernet's modules never change
        modules = list(self.model.modules())
        self._regularized = ([m for m in modules if isinstance(m, DropPath)],
                             [m for m in modules if isinstance(m, nn.Dropout)])
        self.activate_default()

    # --- subnets -------------------------------------------------------------------------------------------
    def activate_default(self) -> None:
        """The fixed subnet (``mutable_cfg``) when given, else the largest one."""
        if self.fixed_choice is not None:
            self.mutator.set_choice(self.fixed_choice, "algorithm.mutable_cfg")
        else:
            self.mutator.set_max()

    def set_regularization(self, active: bool) -> None:
        """Dropout (``drop_ratio``) and drop-path (``drop_path_ratio``, linear over the blocks) on or off."""
        drop_paths, dropouts = self._regularized
        for index, module in enumerate(drop_paths):
            module.drop_prob = self.drop_path_ratio * (index + 1) / len(drop_paths) if active else 0.0
        for module in dropouts:
            module.p = self.drop_ratio if active else 0.0

    # --- training --------------------------------------------------------------------------------------------
    def _subnet_plan(self):
        if self.fixed_choice is not None:
            return ["fixed"]
        return ["max"] + [f"random{i}" for i in range(self.num_subnets - 2)] + ["min"]

    def train_step(self, data: dict, optimizer=None) -> dict:
        """One sandwich iteration: forward/backward every planned subnet, then ONE optimizer step."""
        if optimizer is None or isinstance(optimizer, dict):
            raise GmlConfigError("optimizer", "BigNAS steps one optimizer itself (and needs optimizer_config=None)")
        img, gt_label = data["img"], data["gt_label"]
        optimizer.zero_grad()
        logged: "OrderedDict[str, object]" = OrderedDict()  # tensors, read to the host once, after the step
        subnets = self._subnet_plan()
        soft_target = None
        try:
            for name in subnets:
                if name == "max":
                    self.mutator.set_max()
                elif name == "min":
                    self.mutator.set_min()
                elif name.startswith("random"):
                    self.mutator.set_random()
                else:
                    self.mutator.set_choice(self.fixed_choice, "algorithm.mutable_cfg")
                self.set_regularization(name in ("max", "fixed"))
                with gradients_into_slices():  # the subnet's gradients go into its blocks of the shared weights
                    losses, score = self.model.losses_and_score(
                        img, gt_label, soft_target=None if name in ("max", "fixed") else soft_target)
                    loss, subnet_vars = self.loss_tensors(losses)
                    loss.backward()
                if name == "max" and self.distill:
                    soft_target = F.softmax(score.detach(), dim=1)
                for key, value in subnet_vars.items():
                    logged[f"{name}.{key}"] = value
            average_gradients(self.parameters())  # distributed: one average of the whole sandwich's gradients
            if self.grad_clip:
                params = [p for p in self.parameters() if p.requires_grad and p.grad is not None]
                logged["grad_norm"] = nn.utils.clip_grad_norm_(params, **self.grad_clip)
            optimizer.step()
        finally:
            self.set_regularization(False)
            self.activate_default()
        # read once, after the optimizer step is queued: the device never waits for the host within the step
        log_vars = self.log_floats(logged, local=["grad_norm"])  # the same on every process: not averaged
        log_vars["loss"] = sum((log_vars[f"{name}.loss"] for name in subnets), 0.0)
        # No 'loss' tensor: the optimizer has stepped already (configs set optimizer_config=None).
        return dict(log_vars=log_vars, num_samples=self._num_samples(data))

    def forward_train(self, img, gt_label=None, **kwargs):
        """Losses of the active subnet (used by ``val_step``; training goes through :meth:`train_step`)."""
        return self.model.forward_train(img, gt_label, **kwargs)
