"""``SPOS``: train a single-path one-shot supernet with uniform path sampling (Guo et al., ECCV 2020).

Each training iteration draws one subnet uniformly at random (every searchable dimension independently: one
choice per block of a ``gml.ShuffleNetV2_OneShot``) and trains it on the batch; only that path's weights get
gradients. The runner's OptimizerHook steps the optimizer (configs keep their ``optimizer_config``). The subnet of
the last training step is ``last_choice``.

``mutable_cfg`` (a subnet YAML from tools/search_subnet.py, or a dict) fixes the subnet: training then retrains
only that path and testing evaluates it. Otherwise, outside training the default subnet (every dimension's
``default``) is active. Search and export use the tools BigNAS uses (tools/search_subnet.py, export_subnet.py).
"""
from __future__ import annotations

from typing import Mapping, Optional, Union

from torch import nn

from ..builder import build_mutator
from ..registry import ALGORITHMS
from ..space import default_choice
from .base import BaseAlgorithm


@ALGORITHMS.register_module()
class SPOS(BaseAlgorithm):
    is_supernet = True

    def __init__(self, model: Union[Mapping, nn.Module], mutator: Optional[dict] = None,
                 mutable_cfg: Optional[Union[str, dict]] = None, init_cfg: Optional[dict] = None):
        super().__init__(model, init_cfg)
        self.mutator = build_mutator(mutator or dict(type="gml.StatelessMutator"))
        self.mutator.prepare_from_supernet(self.model)
        self.fixed_choice = self.mutator.load(mutable_cfg, "algorithm.mutable_cfg") if mutable_cfg else None
        self.last_choice = None
        self.activate_default()

    def activate_default(self) -> None:
        """The fixed subnet (``mutable_cfg``) when given, else every dimension's default."""
        if self.fixed_choice is not None:
            self.mutator.set_choice(self.fixed_choice, "algorithm.mutable_cfg")
        else:
            self.mutator.set_choice(default_choice(self.mutator.search_space))

    def set_regularization(self, active: bool) -> None:
        """SPOS trains every path alike: nothing to switch (the subnet tools call this on any supernet)."""

    def train_step(self, data: dict, optimizer=None) -> dict:
        """One uniformly sampled path (or the fixed subnet) forward; the runner back-propagates the loss."""
        self.last_choice = self.mutator.set_random() if self.fixed_choice is None else self.fixed_choice
        try:
            return super().train_step(data, optimizer)
        finally:
            self.activate_default()     # the graph keeps the sampled path; evaluation sees the default one
