"""Knowledge distillation as an ``algorithm=`` wrapper: ``gml.TeacherStudentDistillation`` and
``gml.ABTeacherStudentDistillation`` (activation boundaries).

::

    algorithm = dict(
        type='gml.TeacherStudentDistillation',
        model=<the student's mm model config>,
        distiller=dict(type='gml.TeacherDistiller', distill_cfg=<teacher dict or list of them>),
        use_meal=False,            # True: MEAL V2 (the teachers' averaged soft labels are the only target)
        meal=None,                 # MEAL V2 options: dict(tau=1.0, loss_weight=1.0, discriminator=False)
        connector_pretrain=None,   # dict(epochs=1, optimizer=dict(type='SGD', lr=0.1, momentum=0.9))
        pretrained=None)           # a checkpoint for the student's initial weights

A training step runs every teacher once without gradient (recording its named modules), then the student with
its own losses (cross-entropy from its head; none with ``use_meal``) while forward hooks record the student's
named modules; each distillation head adds ``loss_<name>``, and MEAL V2 adds ``loss_meal_kd`` (+ ``loss_meal_adv``
with a discriminator). The runner's OptimizerHook back-propagates the sum, as for the bare student.

Checkpoints hold the student (``model.*``) and the heads' connectors / MEAL discriminator (``distiller.*``,
``meal.*``), never a teacher; ``student_latest.pth`` (written after every epoch) holds the student alone, under the
bare model's keys. Testing runs the student only.
"""
from __future__ import annotations

import os.path as osp
from typing import Mapping, Optional, Tuple, Union

import torch
from torch import nn

from ...errors import GmlConfigError
from ...validation import boolean, integer
from ..distill import (ActivationBoundaryLoss, ConnectorPretrainHook, MealV2Loss, StudentCheckpointHook,
                       TeacherDistiller, TrainingEpochHook, build_part, classifier_logits)
from ..distill.pretrain import check_pretrain_cfg
from ..registry import ALGORITHMS
from .base import BaseAlgorithm

_KEYS = ("type", "model", "distiller", "use_meal", "meal", "connector_pretrain", "pretrained", "init_cfg")


@ALGORITHMS.register_module()
class TeacherStudentDistillation(BaseAlgorithm):
    """Teacher-student distillation of ``model`` (the student); see the module docs for the config."""

    def __init__(self, model: Union[Mapping, nn.Module], distiller: Mapping, use_meal: bool = False,
                 meal: Optional[dict] = None, connector_pretrain: Optional[dict] = None,
                 pretrained: Optional[str] = None, init_cfg: Optional[dict] = None, **unknown):
        for key in unknown:
            raise GmlConfigError(f"algorithm.{key}", f"unknown key for {type(self).__name__}; valid: "
                                 f"{', '.join(k for k in self.valid_keys() if k != 'type')}")
        super().__init__(model, init_cfg)
        boolean("algorithm.use_meal", use_meal)
        if pretrained is not None and (not isinstance(pretrained, str) or not osp.isfile(pretrained)):
            raise GmlConfigError("algorithm.pretrained", f"student checkpoint {pretrained!r} is not a file")
        self.pretrained = pretrained
        self.distiller = build_part(distiller, "algorithm.distiller", TeacherDistiller,
                                    cfg_path="algorithm.distiller")
        self.distiller.prepare(self.model)
        self.use_meal = use_meal
        if use_meal:
            num_classes = getattr(getattr(self.model, "head", None), "num_classes", None)
            if not isinstance(num_classes, int):
                raise GmlConfigError("algorithm.use_meal", "MEAL V2 needs a student classifier whose head has "
                                     "num_classes")
            self.meal = MealV2Loss(num_classes, meal)
        elif meal is not None:
            raise GmlConfigError("algorithm.meal", "MEAL V2 options are set but use_meal is False")
        elif not self.distiller.supervisions:
            raise GmlConfigError("algorithm.distiller.distill_cfg", "no distill_head_cfg and use_meal=False: "
                                 "nothing to distil")
        self.connector_pretrain = check_pretrain_cfg(connector_pretrain)
        self.connectors_pretrained = False
        self.epoch = 0

    @classmethod
    def valid_keys(cls):
        return _KEYS

    def init_weights(self) -> None:
        """The student's (and connectors') own initialisation, then ``pretrained`` into the student if given."""
        super().init_weights()
        if self.pretrained:
            from mmcv.runner import load_checkpoint

            load_checkpoint(self.model, self.pretrained, map_location="cpu", logger="silent",
                            revise_keys=[(r"^module\.", ""), (r"^model\.", "")])

    def student_pass(self, img, gt_label, **kwargs) -> Tuple[dict, Optional[torch.Tensor]]:
        """The student's own losses (its head's cross-entropy) and, for MEAL V2, its logits instead (MEAL V2 uses
        no hard-label loss). Runs inside the distiller's student recording."""
        if self.use_meal:
            return {}, classifier_logits(self.model, img)
        return dict(self.model.forward_train(img, gt_label, **kwargs)), None

    def forward_train(self, img, gt_label=None, **kwargs):
        teacher_outputs = self.distiller.run_teachers(img)
        with self.distiller.recording_student():
            losses, logits = self.student_pass(img, gt_label, **kwargs)
        losses.update(self.distiller.head_losses(teacher_outputs))
        if self.use_meal:
            losses.update(self.meal(logits, [t.logits for t in teacher_outputs]))
        return losses

    def runner_hooks(self):
        hooks = [(TrainingEpochHook(self), "VERY_HIGH"), (StudentCheckpointHook(self), "LOW")]
        if self.distiller.pretrainable_connectors():
            hooks.append((ConnectorPretrainHook(self), "NORMAL"))
        return hooks


@ALGORITHMS.register_module()
class ABTeacherStudentDistillation(TeacherStudentDistillation):
    """Activation-boundary transfer (Heo et al., 2019) in two phases.

    For the first ``transfer_epochs`` epochs the student learns ONLY from the heads whose loss is
    ``gml.ActivationBoundaryLoss`` (its classifier head gets no loss: the backbone is initialised by transferring
    the teacher's activation boundaries); afterwards it trains with its own losses plus every other head (e.g. a
    soft-label KL head), and the boundary heads are dropped. Distributed runs need ``find_unused_parameters=True``
    (the parts outside the phase get no gradient).
    """

    def __init__(self, model, distiller, transfer_epochs: int = 1, **kwargs):
        super().__init__(model, distiller, **kwargs)
        self.transfer_epochs = integer("algorithm.transfer_epochs", transfer_epochs, least=0)
        #: the boundary heads' loss names (fixed at build time: not rebuilt every step)
        self.boundary_losses = frozenset(s.head.loss_name for s in self.distiller.supervisions
                                         if isinstance(s.head.loss, ActivationBoundaryLoss))
        if not self.boundary_losses:
            raise GmlConfigError("algorithm.distiller.distill_cfg", "ABTeacherStudentDistillation needs at least "
                                 "one head with loss=dict(type='gml.ActivationBoundaryLoss')")

    @classmethod
    def valid_keys(cls):
        return _KEYS + ("transfer_epochs", )

    @property
    def transferring(self) -> bool:
        return self.training and self.epoch < self.transfer_epochs

    def forward_train(self, img, gt_label=None, **kwargs):
        losses = super().forward_train(img, gt_label, **kwargs)
        if self.transferring:
            return {k: v for k, v in losses.items() if k in self.boundary_losses}
        return {k: v for k, v in losses.items() if k not in self.boundary_losses}
