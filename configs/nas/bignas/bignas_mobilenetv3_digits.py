# BigNAS on digits (scikit-learn's 8x8 digits resized to 32x32): a small MobileNetV3-style supernet searching
# widths, kernel sizes, depths, expansion ratios and the input resolution; sandwich rule with in-place
# distillation. Small enough to train on a CPU in minutes.
#   python tools/train.py configs/nas/bignas/bignas_mobilenetv3_digits.py --work-dir work_dirs/bignas_digits
_base_ = [
    '../../_base_/datasets/digits_32x32.py',
    '../../_base_/schedules/digits_sgd_cosine.py',
    '../../_base_/default_runtime.py',
    '../../_base_/search_eval_digits32.py',
]

model = dict(
    type='gml.ImageClassifierSearch',
    backbone=dict(
        type='gml.MobileNetV3Slice',
        conv_cfg=dict(type='Conv2dSlice'),
        # one entry per stage: first conv, 4 MB stages, last conv
        search_space=dict(
            MB_stage_blocks=[
                1,
                1,
                dict(type='Categorical', data=[1, 2], default=2),
                dict(type='Categorical', data=[1, 2, 3], default=3),
                dict(type='Categorical', data=[1, 2, 3], default=3),
                1,
            ],
            MB_kernel_size=[
                3,
                3,
                dict(type='Categorical', data=[3, 5], default=5),
                dict(type='Categorical', data=[3, 5], default=5),
                dict(type='Categorical', data=[3, 5], default=5),
                1,
            ],
            MB_expand_ratio=[
                1,
                1,
                dict(type='Categorical', data=[3, 4, 6], default=6),
                dict(type='Categorical', data=[3, 4, 6], default=6),
                dict(type='Categorical', data=[3, 4, 6], default=6),
                dict(type='Categorical', data=[4, 6], default=6),
            ],
            MB_out_channels=[
                dict(type='Categorical', data=[8, 16], default=16),
                dict(type='Categorical', data=[8, 16], default=16),
                dict(type='Int', lower=16, upper=24, step=8, default=24),
                dict(type='Int', lower=24, upper=32, step=8, default=32),
                dict(type='Int', lower=32, upper=48, step=16, default=48),
                dict(type='Categorical', data=[96, 128], default=128),
            ]),
        stage_strides=[1, 2, 2, 1],
        stage_se=[False, False, True, True],
        stage_act=['ReLU', 'ReLU', 'HSwish', 'HSwish'],
        stem_stride=2),
    neck=dict(type='mmcls.GlobalAveragePooling'),
    head=dict(
        type='gml.LinearClsHeadV2',
        num_classes=10,
        in_channels=128,  # replaced by connect_head
        distiller_mode='soft',  # in-place distillation: the max subnet's soft labels supervise the others
        loss=dict(type='mmcls.LabelSmoothLoss', loss_weight=1.0, label_smooth_val=0.1, num_classes=10),
        soft_loss=dict(type='mmcls.CrossEntropyLoss', use_soft=True, loss_weight=1.0),
        topk=(1, 5)),
    resize_process=dict(type='ResizeSlice', resolution=dict(type='Int', lower=24, upper=32, step=4, default=32)),
    connect_head=dict(in_channels='backbone.feat_dim'))

algorithm = dict(
    type='gml.BigNAS',
    model=model,
    strategy='sandwish4',  # max + 2 random + min per iteration ('sandwich4' works too)
    drop_ratio=0.2,
    drop_path_ratio=0.2,
    mutator=dict(type='gml.StateslessMutator'))

# BigNAS steps the optimizer itself after accumulating the sandwich's gradients: no OptimizerHook.
optimizer_config = None
optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-5, nesterov=True)
runner = dict(type='EpochBasedRunner', max_epochs=30)
evaluation = dict(interval=5, metric='accuracy', metric_options=dict(topk=(1, 5)))
checkpoint_config = dict(interval=5, max_keep_ckpts=2)
