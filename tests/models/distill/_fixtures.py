"""Shared builders for the distillation tests: a width-8 ResNet-18 student, small teachers saved as real mmcv
checkpoints (random weights: these tests check the mechanics, not what a trained teacher teaches)."""
import copy

import torch

from .._classifiers import MOBILENET_V2_QUARTER as TEACHER, RESNET18_W8 as STUDENT  # noqa: F401


def kd_head(name="kd", tau=4.0, **extra):
    return dict(student_module='head.fc', teacher_module='head.fc',
                head=dict(type='gml.BaseDistillationHead', name=name,
                          loss=dict(type='gml.KLDivergenceLoss', tau=tau), **extra))


def save_teacher(path, seed=0):
    from mmcv.runner import save_checkpoint

    from gml.models import build_model

    torch.manual_seed(seed)
    model = build_model(copy.deepcopy(TEACHER))
    model.init_weights()
    save_checkpoint(model, str(path))
    return str(path)


def algorithm_cfg(teacher_ckpt, heads=None, **kwargs):
    teacher = dict(model=copy.deepcopy(TEACHER), ckpt_path=teacher_ckpt,
                   distill_head_cfg=heads if heads is not None else [kd_head()])
    return dict(type='gml.TeacherStudentDistillation', model=copy.deepcopy(STUDENT),
                distiller=dict(type='gml.TeacherDistiller', distill_cfg=kwargs.pop('distill_cfg', teacher)),
                **kwargs)


