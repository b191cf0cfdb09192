"""``LinearClsHeadV2``: a linear classification head over a slimmable feature width, with in-place
distillation.

Its ``fc`` is a :class:`~gml.models.ops.LinearSlice`, so it takes whatever width the backbone's current subnet
outputs (``in_channels`` is the largest). With ``distiller_mode='soft'``, ``forward_train(x, gt_label,
soft_target=p)`` trains on the soft labels ``p`` (the largest subnet's softmax, BigNAS's in-place distillation)
with ``soft_loss`` (default ``mmcls.CrossEntropyLoss(use_soft=True)``); without ``soft_target`` it uses the
hard-label ``loss``. A ``dropout`` before ``fc`` (probability 0 unless an algorithm sets it) regularises the
largest subnet. The state-dict keys (``fc.weight``, ``fc.bias``) are those of mmcls's ``LinearClsHead``.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from mmcls.models.heads import ClsHead
from torch import nn

from ...errors import GmlConfigError
from ..ops import LinearSlice
from ..registry import HEADS, LOSSES

_DISTILLER_MODES = (None, "soft")


@HEADS.register_module()
class LinearClsHeadV2(ClsHead):
    def __init__(self, num_classes: int, in_channels: int, distiller_mode: Optional[str] = None,
                 soft_loss: Optional[dict] = None, init_cfg=dict(type="Normal", layer="Linear", std=0.01),
                 **kwargs):
        super().__init__(init_cfg=init_cfg, **kwargs)
        if distiller_mode not in _DISTILLER_MODES:
            raise GmlConfigError("model.head.distiller_mode", f"must be one of {_DISTILLER_MODES}, "
                                                              f"got {distiller_mode!r}")
        if not isinstance(num_classes, int) or num_classes <= 0:
            raise GmlConfigError("model.head.num_classes", f"must be a positive int, got {num_classes!r}")
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.distiller_mode = distiller_mode
        if distiller_mode == "soft" and soft_loss is None:
            soft_loss = dict(type="mmcls.CrossEntropyLoss", use_soft=True, loss_weight=1.0)
        self.compute_soft_loss = LOSSES.build(soft_loss) if soft_loss is not None else None
        self.dropout = nn.Dropout(0.0)
        self.fc = LinearSlice(in_channels, num_classes)

    def pre_logits(self, x):
        if isinstance(x, tuple):
            x = x[-1]
        return x.flatten(1) if x.dim() > 2 else x

    def logits(self, x) -> torch.Tensor:
        return self.fc(self.dropout(self.pre_logits(x)))

    def losses_and_score(self, x, gt_label, soft_target: Optional[torch.Tensor] = None):
        """(losses, cls_score): the hard-label loss, or the soft loss when ``soft_target`` is given."""
        cls_score = self.logits(x)
        if soft_target is None:
            return self.loss(cls_score, gt_label), cls_score
        if self.compute_soft_loss is None:
            raise RuntimeError("soft targets given to a LinearClsHeadV2 built without distiller_mode='soft'")
        losses = {"loss": self.compute_soft_loss(cls_score, soft_target, avg_factor=len(cls_score))}
        if self.cal_acc:
            losses["accuracy"] = {f"top-{k}": a for k, a in zip(self.topk, self.compute_accuracy(cls_score,
                                                                                                gt_label))}
        return losses, cls_score

    def forward_train(self, x, gt_label, soft_target: Optional[torch.Tensor] = None, **kwargs):
        return self.losses_and_score(x, gt_label, soft_target)[0]

    def simple_test(self, x, softmax: bool = True, post_process: bool = True):
        cls_score = self.logits(x)
        pred = F.softmax(cls_score, dim=1) if softmax else cls_score
        return self.post_process(pred) if post_process else pred
