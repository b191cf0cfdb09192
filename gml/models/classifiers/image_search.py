"""``ImageClassifierSearch``: mmcls's ``ImageClassifier`` over a searchable backbone, plus

- ``resize_process=dict(type='ResizeSlice', resolution=Int(...))``: the input resolution is searched too (the
  images are resized inside the model, before the backbone);
- ``connect_head=dict(in_channels='backbone.feat_dim')``: a head argument taken from the built backbone
  (``backbone.X`` reads ``backbone.max_X`` when it exists, else ``backbone.X``) so the head is sized for the
  largest subnet; slimmable heads follow the current width at run time;
- ``forward_train(..., soft_target=p)`` and :meth:`losses_and_score` for in-place distillation.
"""
from __future__ import annotations

from typing import Optional

from mmcls.models.classifiers import ImageClassifier
from mmcls.models.classifiers.base import BaseClassifier

from ...errors import GmlConfigError
from ..registry import BACKBONES, CLASSIFIERS, HEADS, MODELS, NECKS


def _resolve(owner, reference: str, path: str):
    if not isinstance(reference, str) or "." not in reference:
        raise GmlConfigError(path, f"expected 'module.attribute' such as 'backbone.feat_dim', got {reference!r}")
    module_name, attr = reference.split(".", 1)
    module = getattr(owner, module_name, None)
    if module is None:
        raise GmlConfigError(path, f"the model has no {module_name!r}")
    for name in (f"max_{attr}", attr):
        if hasattr(module, name):
            return getattr(module, name)
    raise GmlConfigError(path, f"{type(module).__name__} has no attribute {attr!r}")


@CLASSIFIERS.register_module()
class ImageClassifierSearch(ImageClassifier):
    def __init__(self, backbone: dict, neck: Optional[dict] = None, head: Optional[dict] = None,
                 resize_process: Optional[dict] = None, connect_head: Optional[dict] = None,
                 pretrained=None, train_cfg: Optional[dict] = None, init_cfg: Optional[dict] = None):
        BaseClassifier.__init__(self, init_cfg)
        if pretrained is not None:
            self.init_cfg = dict(type="Pretrained", checkpoint=pretrained)
        self.backbone = BACKBONES.build(backbone)
        self.resize_process = MODELS.build(resize_process) if resize_process is not None else None
        if neck is not None:
            self.neck = NECKS.build(neck)
        if head is not None:
            head = dict(head)
            for key, reference in (connect_head or {}).items():
                head[key] = _resolve(self, reference, f"model.connect_head.{key}")
            self.head = HEADS.build(head)
        self.augments = None
        if train_cfg is not None and train_cfg.get("augments") is not None:
            from mmcls.models.utils.augment import Augments
            self.augments = Augments(train_cfg["augments"])

    def extract_feat(self, img, stage: str = "neck"):
        if self.resize_process is not None:
            img = self.resize_process(img)
        return super().extract_feat(img, stage=stage)

    def losses_and_score(self, img, gt_label, soft_target=None):
        """(losses, cls_score) of one forward; ``soft_target`` switches the head to its soft (distillation)
        loss."""
        if self.augments is not None:
            img, gt_label = self.augments(img, gt_label)
        x = self.extract_feat(img)
        return self.head.losses_and_score(x, gt_label, soft_target=soft_target)

    def forward_train(self, img, gt_label, soft_target=None, **kwargs):
        if hasattr(self.head, "losses_and_score"):
            return self.losses_and_score(img, gt_label, soft_target)[0]
        return super().forward_train(img, gt_label, **kwargs)
