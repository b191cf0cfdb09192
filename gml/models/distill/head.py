"""``BaseDistillationHead``: one supervision = connectors + a loss between a student and a teacher feature."""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from ...errors import GmlConfigError
from ...validation import invalid
from ..registry import MODELS
from .config import build_part
from .connectors import PretrainableConnector
from .losses import DistillLoss


def as_tensor(output, path: str) -> torch.Tensor:
    """A recorded output as one tensor: a tensor as is; a tuple/list (e.g. an mmcls backbone's out_indices) by
    its last element, the deepest stage, as mm necks and heads read it."""
    if isinstance(output, (tuple, list)) and output:
        output = output[-1]
    if not isinstance(output, torch.Tensor):
        raise GmlConfigError(path, f"the recorded module returned {type(output).__name__}, not a tensor")
    return output


@MODELS.register_module()
class BaseDistillationHead(nn.Module):
    """``loss(stu_connector(student_feat), tea_connector(teacher_feat))``.

    - ``name``: the head's name; its loss is logged as ``loss_<name>`` and added to the training loss.
    - ``stu_connector`` / ``tea_connector``: connector configs (see ``connectors.py``) or None for identity (the
      attribute is then None: the feature goes to the loss as recorded, with no module call).
      A connector with ``pretrain_criterion`` is pretrained before training and frozen afterwards
      (:attr:`pretrainable`); the teacher side always runs without gradient when it has no trainable parameter.
    - ``loss``: a loss config (see ``losses.py``), e.g. ``dict(type='gml.KLDivergenceLoss', tau=4, loss_weight=1)``.

    ``cfg_path`` is the config key path used in error messages (set by the distiller).
    """

    def __init__(self, name: str, loss: dict, stu_connector: Optional[dict] = None,
                 tea_connector: Optional[dict] = None, cfg_path: str = "head"):
        super().__init__()
        if not isinstance(name, str) or not name.isidentifier():
            raise invalid(f"{cfg_path}.name", name, "an identifier such as 'kd_logits'")
        self.name = name
        self.cfg_path = cfg_path
        self._student_path, self._teacher_path = f"{cfg_path}.student_module", f"{cfg_path}.teacher_module"
        self.loss = build_part(loss, f"{cfg_path}.loss", DistillLoss)
        self.stu_connector = self._connector(stu_connector, f"{cfg_path}.stu_connector")
        self.tea_connector = self._connector(tea_connector, f"{cfg_path}.tea_connector")

    @staticmethod
    def _connector(cfg: Optional[dict], path: str) -> Optional[nn.Module]:
        if cfg is None:
            return None
        connector = build_part(cfg, path, nn.Module)
        if isinstance(connector, PretrainableConnector) and connector.needs_pretraining:
            connector.pretrain_loss = build_part(connector.pretrain_criterion, f"{path}.pretrain_criterion",
                                                 DistillLoss)
            connector.requires_grad_(False)  # trained only by the pretraining; frozen while the student trains
        return connector

    @property
    def loss_name(self) -> str:
        return f"loss_{self.name}"

    def pretrainable(self):
        """``(side, connector)`` pairs of the connectors that are pretrained, side being 'student' or 'teacher'."""
        return [(side, c) for side, c in (("student", self.stu_connector), ("teacher", self.tea_connector))
                if isinstance(c, PretrainableConnector) and c.needs_pretraining]

    def forward(self, student_output, teacher_output) -> torch.Tensor:
        student = as_tensor(student_output, self._student_path)
        if self.stu_connector is not None:
            student = self.stu_connector(student)
        teacher = as_tensor(teacher_output, self._teacher_path)
        if self.tea_connector is not None:
            if any(p.requires_grad for p in self.tea_connector.parameters()):
                teacher = self.tea_connector(teacher)
            else:
                with torch.no_grad():
                    teacher = self.tea_connector(teacher)
        if isinstance(self.loss, DistillLoss) and self.loss.same_shape and student.shape != teacher.shape:
            raise GmlConfigError(self.cfg_path, f"head {self.name!r}: the student side gives {tuple(student.shape)}, "
                                 f"the teacher side {tuple(teacher.shape)}; {type(self.loss).__name__} needs one "
                                 f"shape: set stu_connector/tea_connector to map them")
        return self.loss(student, teacher)
