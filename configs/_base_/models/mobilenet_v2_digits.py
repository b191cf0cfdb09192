# MobileNetV2 (mmcls's, ImageNet strides) for 32x32 inputs; 10 digit classes.
# widen_factor sets the width; the last conv keeps 1280 channels for widen_factor <= 1.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='MobileNetV2', widen_factor=1.0),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=1280,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0), topk=(1, 5)))
