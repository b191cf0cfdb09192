# BigNAS over a slimmable ResNet (basic blocks, CIFAR-style stem) on digits 32x32: searches the stem width and
# each stage's width and depth.
_base_ = [
    '../../_base_/datasets/digits_32x32.py',
    '../../_base_/schedules/digits_sgd_cosine.py',
    '../../_base_/default_runtime.py',
    '../../_base_/search_eval_digits32.py',
]

model = dict(
    type='gml.ImageClassifierSearch',
    backbone=dict(
        type='gml.ResNetSlice',
        depth=18,
        num_stages=3,
        strides=(1, 2, 2),
        out_indices=(2, ),
        stem_kernel=3,
        stem_stride=1,
        stem_pool=False,
        search_space=dict(
            stem_channels=dict(type='Categorical', data=[8, 16], default=16),
            stage_out_channel=[
                dict(type='Categorical', data=[8, 16], default=16),
                dict(type='Categorical', data=[16, 32], default=32),
                dict(type='Categorical', data=[32, 48, 64], default=64),
            ],
            stage_blocks=[
                dict(type='Categorical', data=[1, 2], default=2),
                dict(type='Categorical', data=[1, 2], default=2),
                dict(type='Categorical', data=[1, 2], default=2),
            ])),
    neck=dict(type='mmcls.GlobalAveragePooling'),
    head=dict(
        type='gml.LinearClsHeadV2',
        num_classes=10,
        in_channels=64,
        distiller_mode='soft',
        loss=dict(type='mmcls.CrossEntropyLoss', loss_weight=1.0),
        soft_loss=dict(type='mmcls.CrossEntropyLoss', use_soft=True, loss_weight=1.0),
        topk=(1, 5)),
    connect_head=dict(in_channels='backbone.feat_dim'))

algorithm = dict(type='gml.BigNAS', model=model, strategy='sandwich4', drop_ratio=0.1,
                 drop_path_ratio=0.1, mutator=dict(type='gml.StatelessMutator'))

optimizer_config = None  # BigNAS steps the optimizer itself
optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-5, nesterov=True)
runner = dict(type='EpochBasedRunner', max_epochs=30)
