"""Pretraining of connectors that have ``pretrain_criterion`` (e.g. Factor Transfer's paraphraser), before the
student's first epoch, on the training data loader the runner is about to use.

Each pretrained connector learns from its own side's recorded feature (the teacher's for a ``tea_connector``, the
student's initial network for a ``stu_connector``) with its ``forward_pretrain`` loss, using an optimizer of its own
(``algorithm.connector_pretrain.optimizer``, default SGD lr 0.1 momentum 0.9) for ``epochs`` passes (default 1).
Afterwards the connectors are frozen (no gradient, eval mode); in a distributed run rank 0's weights are broadcast so
every rank holds the same connector.
"""
from __future__ import annotations

from typing import Dict, Optional

import torch
import torch.distributed as dist
from torch import nn

from ...validation import integer, invalid
from .config import check_keys
from .distiller import TeacherDistiller, classifier_logits

DEFAULT_OPTIMIZER = dict(type="SGD", lr=0.1, momentum=0.9)


def check_pretrain_cfg(cfg: Optional[dict], path: str = "algorithm.connector_pretrain") -> dict:
    cfg = check_keys(cfg or {}, path, required=(), optional=("epochs", "optimizer"))
    epochs = integer(f"{path}.epochs", cfg.get("epochs", 1), least=1)
    optimizer = cfg.get("optimizer", DEFAULT_OPTIMIZER)
    if not isinstance(optimizer, dict) or "type" not in optimizer:
        raise invalid(f"{path}.optimizer", optimizer, "an optimizer dict with 'type'")
    return dict(epochs=epochs, optimizer=dict(optimizer))


def _batch_images(data: dict, device: torch.device) -> torch.Tensor:
    img = data["img"]
    if not isinstance(img, torch.Tensor):  # an mmcv DataContainer
        img = img.data[0]
    return img.to(device)


def pretrain_connectors(distiller: TeacherDistiller, student: nn.Module, data_loader, cfg: dict,
                        logger=None) -> Dict[str, float]:
    """Pretrain every connector with ``pretrain_criterion``; returns each one's mean loss in the last epoch
    (keyed ``<head name>.<side>``). Does nothing (and returns {}) when there is none."""
    from mmcv.runner import build_optimizer

    items = distiller.pretrainable_connectors()
    if not items:
        return {}
    connectors = nn.ModuleList([connector for _, _, connector in items])
    try:
        connectors.requires_grad_(True)
        connectors.train()
        optimizer = build_optimizer(connectors, cfg["optimizer"])
        device = next(connectors.parameters()).device
        needs_student = any(side == "student" for _, side, _ in items)
        last: Dict[str, float] = {}
        for epoch in range(cfg["epochs"]):
            sums = {f"{s.head.name}.{side}": 0.0 for s, side, _ in items}
            batches = 0
            for data in data_loader:
                img = _batch_images(data, device)
                teacher_outputs = distiller.run_teachers(img)
                student_records = {}
                if needs_student:
                    with torch.no_grad(), distiller.recording_student() as recorder:
                        classifier_logits(student, img)
                    student_records = recorder.outputs
                optimizer.zero_grad()
                total = 0.0
                for s, side, connector in items:
                    if side == "teacher":
                        teacher_index = next(i for i, t in enumerate(distiller.teachers) if s in t.supervisions)
                        feat = teacher_outputs[teacher_index].records[s.teacher_module]
                    else:
                        feat = student_records[s.student_module]
                    feat = feat[-1] if isinstance(feat, (tuple, list)) else feat
                    loss = connector.forward_pretrain(feat.detach())
                    sums[f"{s.head.name}.{side}"] += float(loss.detach())
                    total = total + loss
                total.backward()
                optimizer.step()
                batches += 1
            last = {k: v / max(batches, 1) for k, v in sums.items()}
            if logger is not None:
                logger.info(f"connector pretraining epoch {epoch + 1}/{cfg['epochs']}: "
                            + ", ".join(f"{k}={v:.4f}" for k, v in last.items()))
    finally:
        connectors.requires_grad_(False)
        connectors.eval()
        for p in connectors.parameters():
            p.grad = None
    if dist.is_available() and dist.is_initialized():
        for tensor in list(connectors.parameters()) + list(connectors.buffers()):
            dist.broadcast(tensor.data, src=0)
    return last
