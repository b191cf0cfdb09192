"""Small searchable models for the NAS tests (built through the real registries)."""
import copy

C = lambda data: dict(type="Categorical", data=data)  # noqa: E731

MBV3_MODEL = dict(
    type="gml.ImageClassifierSearch",
    backbone=dict(
        type="gml.MobileNetV3Slice", conv_cfg=dict(type="Conv2dSlice"),
        search_space=dict(
            MB_stage_blocks=[1, C([1, 2]), C([1, 2]), 1],
            MB_kernel_size=[C([3, 5]), C([3, 5]), C([3, 5]), 1],
            MB_expand_ratio=[1, 1, C([3, 4]), C([4, 6])],
            MB_out_channels=[C([8, 16]), C([8, 16]), C([16, 24]), C([32, 48])]),
        stage_strides=[1, 2], stage_se=[False, True], stage_act=["ReLU", "HSwish"], stem_stride=1),
    neck=dict(type="mmcls.GlobalAveragePooling"),
    head=dict(type="gml.LinearClsHeadV2", num_classes=10, in_channels=1, distiller_mode="soft",
              loss=dict(type="mmcls.CrossEntropyLoss"),
              soft_loss=dict(type="mmcls.CrossEntropyLoss", use_soft=True), topk=(1, 5)),
    resize_process=dict(type="ResizeSlice", resolution=dict(type="Int", lower=12, upper=16, step=4)),
    connect_head=dict(in_channels="backbone.feat_dim"))

RESNET_MODEL = dict(
    type="gml.ImageClassifierSearch",
    backbone=dict(
        type="gml.ResNetSlice", depth=18, num_stages=2, strides=(1, 2), out_indices=(1,), stem_kernel=3,
        stem_stride=1, stem_pool=False,
        search_space=dict(stem_channels=C([4, 8]), stage_out_channel=[C([4, 8]), C([8, 16])],
                          stage_blocks=[C([1, 2]), C([1, 2])])),
    neck=dict(type="mmcls.GlobalAveragePooling"),
    head=dict(type="gml.LinearClsHeadV2", num_classes=10, in_channels=1, distiller_mode="soft",
              loss=dict(type="mmcls.CrossEntropyLoss"), topk=(1,)),
    connect_head=dict(in_channels="backbone.feat_dim"))


def bignas(model=MBV3_MODEL, **kwargs):
    from gml.models import build_algorithm

    cfg = dict(type="gml.BigNAS", model=copy.deepcopy(model), **kwargs)
    return build_algorithm(cfg)
