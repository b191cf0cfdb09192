"""``TeacherDistiller``: frozen teachers, the records of their and the student's named modules, and the heads.

``distill_cfg`` is one teacher dict or a list of them::

    dict(model=<mm model config>, ckpt_path='teacher.pth' or None,
         distill_head_cfg=[dict(student_module='backbone.layer4', teacher_module='backbone.layer4',
                                head=dict(type='gml.BaseDistillationHead', name='fitnet', loss=..., ...))])

Teachers are **not submodules**: they never appear in ``state_dict()`` (so never in the student's checkpoint), in
``parameters()`` (so never in the optimizer) or under DDP. They are loaded from ``ckpt_path`` (None warns loudly:
the teacher is then random), frozen (``requires_grad=False``), always in eval mode, run under ``torch.no_grad()``,
and follow the distiller's ``.to()/.cuda()``. The heads (and their connectors) are submodules: they are trained,
checkpointed and resumed with the student.
"""
from __future__ import annotations

import os.path as osp
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Union

import torch
from torch import nn

from ...errors import GmlConfigError
from ...validation import invalid
from ..builder import build_model
from ..registry import MODELS
from .config import build_part, check_keys
from .head import BaseDistillationHead
from .recorder import ModuleRecorder

TEACHER_KEYS = ("model", "ckpt_path", "distill_head_cfg")
HEAD_CFG_KEYS = ("student_module", "teacher_module", "head")


class TeacherCheckpointWarning(UserWarning):
    """A teacher without a checkpoint: distilling from random weights is almost never what was meant."""


@dataclass
class Supervision:
    """One entry of a teacher's ``distill_head_cfg``: which modules the head compares."""

    student_module: str
    teacher_module: str
    head: BaseDistillationHead
    path: str


@dataclass
class Teacher:
    model: nn.Module
    recorder: ModuleRecorder
    supervisions: List[Supervision] = field(default_factory=list)


@dataclass
class TeacherOutput:
    """One teacher's forward on a batch: its logits and its recorded module outputs (no gradient)."""

    logits: torch.Tensor
    records: Dict[str, object]


def classifier_logits(model: nn.Module, img: torch.Tensor) -> torch.Tensor:
    """Logits (N, num_classes) of an mmcls classifier: ``extract_feat`` + the head without softmax."""
    head = getattr(model, "head", None)
    if head is None or not hasattr(model, "extract_feat") or not hasattr(head, "simple_test"):
        raise GmlConfigError("model", f"{type(model).__name__} is not an mmcls classifier with extract_feat + head")
    return head.simple_test(model.extract_feat(img), softmax=False, post_process=False)


@MODELS.register_module()
class TeacherDistiller(nn.Module):
    """Teachers + distillation heads; :meth:`prepare` attaches the student. ``cfg_path`` names the config key
    (``algorithm.distiller``) in error messages."""

    def __init__(self, distill_cfg: Union[Mapping, Sequence[Mapping]],
                 cfg_path: str = "algorithm.distiller"):
        super().__init__()
        self.cfg_path = cfg_path
        if isinstance(distill_cfg, Mapping):
            teacher_cfgs, paths = [distill_cfg], [f"{cfg_path}.distill_cfg"]
        elif isinstance(distill_cfg, (list, tuple)) and distill_cfg:
            teacher_cfgs = list(distill_cfg)
            paths = [f"{cfg_path}.distill_cfg[{i}]" for i in range(len(teacher_cfgs))]
        else:
            raise invalid(f"{cfg_path}.distill_cfg", distill_cfg, "a teacher dict or a non-empty list of them")
        self.heads = nn.ModuleList()
        teachers = [self._build_teacher(cfg, path) for cfg, path in zip(teacher_cfgs, paths)]
        object.__setattr__(self, "teachers", teachers)  # a plain list: teachers are not submodules
        self.student_recorder: Optional[ModuleRecorder] = None

    # --- building ---------------------------------------------------------------------------------------------
    def _build_teacher(self, cfg: Mapping, path: str) -> Teacher:
        cfg = check_keys(cfg, path, required=("model", ), optional=("ckpt_path", "distill_head_cfg"))
        try:
            model = build_model(cfg["model"])
        except GmlConfigError:
            raise
        except (KeyError, TypeError, ValueError) as err:
            raise GmlConfigError(f"{path}.model", str(err)) from None
        self._load_teacher(model, cfg.get("ckpt_path"), f"{path}.ckpt_path")
        model.requires_grad_(False)
        model.eval()
        head_cfgs = cfg.get("distill_head_cfg") or []
        if not isinstance(head_cfgs, (list, tuple)):
            raise invalid(f"{path}.distill_head_cfg", head_cfgs, "a list of dicts")
        supervisions = []
        taken = {head.name for head in self.heads}
        for index, head_cfg in enumerate(head_cfgs):
            head_path = f"{path}.distill_head_cfg[{index}]"
            head_cfg = check_keys(head_cfg, head_path, required=HEAD_CFG_KEYS)
            head = build_part(head_cfg["head"], f"{head_path}.head", BaseDistillationHead,
                              cfg_path=f"{head_path}.head")
            if head.name in taken:
                raise GmlConfigError(f"{head_path}.head.name", f"head name {head.name!r} is used twice")
            taken.add(head.name)
            self.heads.append(head)
            supervisions.append(Supervision(head_cfg["student_module"], head_cfg["teacher_module"], head, head_path))
        recorder = ModuleRecorder(model, [s.teacher_module for s in supervisions],
                                  [f"{s.path}.teacher_module" for s in supervisions])
        return Teacher(model, recorder, supervisions)

    @staticmethod
    def _load_teacher(model: nn.Module, ckpt_path: Optional[str], path: str) -> None:
        from mmcv.runner import load_checkpoint

        if ckpt_path is None:
            warnings.warn(f"{path} is None: the teacher {type(model).__name__} keeps its RANDOM initial weights, "
                          f"so the student learns from noise. Set ckpt_path to the trained teacher's checkpoint.",
                          TeacherCheckpointWarning, stacklevel=3)
            return
        if not isinstance(ckpt_path, str) or not osp.isfile(ckpt_path):
            raise GmlConfigError(path, f"teacher checkpoint {ckpt_path!r} is not a file")
        # Bare mmcls checkpoints (backbone.*) and gml algorithm checkpoints (model.backbone.*) both load.
        try:
            load_checkpoint(model, ckpt_path, map_location="cpu", strict=True, logger="silent",
                            revise_keys=[(r"^module\.", ""), (r"^model\.", "")])
        except RuntimeError as err:
            raise GmlConfigError(path, f"{ckpt_path!r} does not fit the teacher's model config: {err}") from None

    def prepare(self, student: nn.Module) -> None:
        """Attach forward hooks to the student's supervised modules (names checked against ``student``)."""
        supervisions = self.supervisions
        self.student_recorder = ModuleRecorder(student, [s.student_module for s in supervisions],
                                               [f"{s.path}.student_module" for s in supervisions])

    # --- running ----------------------------------------------------------------------------------------------
    @property
    def supervisions(self) -> List[Supervision]:
        return [s for teacher in self.teachers for s in teacher.supervisions]

    @torch.no_grad()
    def run_teachers(self, img: torch.Tensor) -> List[TeacherOutput]:
        """Every teacher's logits and recorded outputs for ``img`` (eval mode, no gradient)."""
        outputs = []
        for teacher in self.teachers:
            with teacher.recorder:
                logits = classifier_logits(teacher.model, img)
            outputs.append(TeacherOutput(logits, teacher.recorder.outputs))
        return outputs

    def head_losses(self, teacher_outputs: List[TeacherOutput]) -> Dict[str, torch.Tensor]:
        """``loss_<name>`` of every head, from the student's records (taken inside :meth:`recording_student`)
        and ``teacher_outputs`` (in teacher order)."""
        losses = {}
        for teacher, output in zip(self.teachers, teacher_outputs):
            for s in teacher.supervisions:
                student_feat = self.student_recorder.get(s.student_module, f"{s.path}.student_module")
                teacher_feat = output.records[s.teacher_module]
                losses[s.head.loss_name] = s.head(student_feat, teacher_feat)
        return losses

    def recording_student(self) -> ModuleRecorder:
        """Context manager: record the student's supervised modules during the forward inside it."""
        if self.student_recorder is None:
            raise RuntimeError("TeacherDistiller.prepare(student) was not called")
        return self.student_recorder

    def pretrainable_connectors(self):
        """``(supervision, side, connector)`` for each connector with ``pretrain_criterion``."""
        return [(s, side, c) for s in self.supervisions for side, c in s.head.pretrainable()]

    # --- module plumbing: teachers follow device moves and stay in eval mode ------------------------------------
    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        for teacher in self.teachers:
            teacher.model._apply(fn, *args, **kwargs)
        return self

    def train(self, mode: bool = True):
        super().train(mode)
        for teacher in self.teachers:
            teacher.model.eval()
        for _, _, connector in self.pretrainable_connectors():
            connector.eval()
        return self
