# Baseline for the BigNAS digits run: the supernet's largest subnet as a plain static model (mmcls.ImageClassifier,
# gml.MobileNetV3Slice built static=True at the max of every dimension), trained alone with the same data,
# schedule and epochs as configs/nas/bignas/bignas_mobilenetv3_digits.py.
_base_ = [
    '../../_base_/datasets/digits_32x32.py',
    '../../_base_/schedules/digits_sgd_cosine.py',
    '../../_base_/default_runtime.py',
]
custom_imports = dict(imports=['gml.models'], allow_failed_imports=False)

model = dict(
    type='mmcls.ImageClassifier',
    backbone=dict(
        type='gml.MobileNetV3Slice',
        static=True,
        search_space=dict(
            MB_stage_blocks=[1, 1, 2, 3, 3, 1],
            MB_kernel_size=[3, 3, 5, 5, 5, 1],
            MB_expand_ratio=[1, 1, 6, 6, 6, 6],
            MB_out_channels=[16, 16, 24, 32, 48, 128]),
        stage_strides=[1, 2, 2, 1],
        stage_se=[False, False, True, True],
        stage_act=['ReLU', 'ReLU', 'HSwish', 'HSwish'],
        stem_stride=2),
    neck=dict(type='mmcls.GlobalAveragePooling'),
    head=dict(
        type='mmcls.LinearClsHead',
        num_classes=10,
        in_channels=128,
        loss=dict(type='mmcls.LabelSmoothLoss', loss_weight=1.0, label_smooth_val=0.1, num_classes=10),
        topk=(1, 5)))

optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-5, nesterov=True)
runner = dict(type='EpochBasedRunner', max_epochs=30)
evaluation = dict(interval=5, metric='accuracy', metric_options=dict(topk=(1, 5)))
checkpoint_config = dict(interval=5, max_keep_ckpts=2)
