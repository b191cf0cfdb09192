# SPOS on digits (scikit-learn's 8x8 digits resized to 32x32): a small ShuffleNetV2 one-shot supernet whose 6
# blocks each choose shuffle_3x3 / 5x5 / 7x7 / xception (4^6 = 4096 subnets); one uniformly sampled path per
# iteration. Small enough to train on a CPU in minutes.
#   python tools/train.py configs/nas/spos/spos_shufflenetv2_digits.py --work-dir work_dirs/spos_digits
_base_ = [
    '../../_base_/datasets/digits_32x32.py',
    '../../_base_/schedules/digits_sgd_cosine.py',
    '../../_base_/default_runtime.py',
    '../../_base_/search_eval_digits32.py',
]

model = dict(
    type='gml.ImageClassifierSearch',
    backbone=dict(
        type='gml.ShuffleNetV2_OneShot',
        # the paper's ImageNet supernet: stage_blocks [4, 4, 8, 4], stage_channels [64, 160, 320, 640], 1024
        stage_blocks=[2, 2, 2],
        stage_channels=[32, 64, 128],
        stage_strides=[2, 2, 1],
        stem_channels=16,
        stem_stride=2,
        last_channels=256,
        search_space=dict(blocks=dict(
            type='Categorical', data=['shuffle_3x3', 'shuffle_5x5', 'shuffle_7x7', 'shuffle_xception'],
            default='shuffle_3x3'))),
    neck=dict(type='mmcls.GlobalAveragePooling'),
    head=dict(
        type='gml.LinearClsHeadV2',
        num_classes=10,
        in_channels=256,  # replaced by connect_head
        loss=dict(type='mmcls.LabelSmoothLoss', loss_weight=1.0, label_smooth_val=0.1, num_classes=10),
        topk=(1, 5)),
    connect_head=dict(in_channels='backbone.feat_dim'))

algorithm = dict(type='gml.SPOS', model=model, mutator=dict(type='gml.StatelessMutator'))

optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=4e-5, nesterov=True)
optimizer_config = dict(grad_clip=None)
runner = dict(type='EpochBasedRunner', max_epochs=30)
evaluation = dict(interval=5, metric='accuracy', metric_options=dict(topk=(1, 5)))
checkpoint_config = dict(interval=5, max_keep_ckpts=2)
