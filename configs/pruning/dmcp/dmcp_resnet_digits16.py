# The small DMCP set-up of the results in configs/pruning/dmcp/README.md: a plain mmcls ResNet-18-style
# classifier with 3 stages (base width 16, CIFAR stem) on digits at 16x16 (6.66 MFLOPs), cheap enough to train
# several supernets and retrains on a shared CPU. Same flow as dmcp_resnet18_digits.py.
_base_ = ['./dmcp_resnet18_digits.py']

model = dict(
    type='mmcls.ImageClassifier',
    backbone=dict(type='mmcls.ResNet_CIFAR', depth=18, num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1),
                  out_indices=(2, ), style='pytorch', stem_channels=16, base_channels=16),
    neck=dict(type='mmcls.GlobalAveragePooling'),
    head=dict(type='mmcls.LinearClsHead', num_classes=10, in_channels=64,
              loss=dict(type='mmcls.CrossEntropyLoss', loss_weight=1.0), topk=(1, 5)))

algorithm = dict(
    model=model,
    mutator=dict(input_shape=(3, 16, 16)),
    floss_cfg=dict(target_flops=3.33))  # MFLOPs: half of the full model's 6.66

digits_cfg = dict(image_size=16, channels=3, val_fraction=0.2, split_seed=0)
img_norm_cfg = dict(mean=[77.8, 77.8, 77.8], std=[82.4, 82.4, 82.4], to_rgb=False)
train_pipeline = [  # the base's at 16x16 (val/test: the base's test_pipeline, which has no size)
    dict(type='RandomCrop', size=16, padding=1),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='ImageToTensor', keys=['img']),
    dict(type='ToTensor', keys=['gt_label']),
    dict(type='Collect', keys=['img', 'gt_label']),
]
data = dict(train=dict(pipeline=train_pipeline, **digits_cfg), val=dict(**digits_cfg), test=dict(**digits_cfg))

search_eval_cfg = dict(evaluator=dict(default_shape=(1, 3, 16, 16)))
