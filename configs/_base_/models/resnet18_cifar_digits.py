# ResNet-18 with a CIFAR stem (3x3 conv, no max-pool) for 32x32 inputs; 10 digit classes.
# base_channels sets the width (64 = the standard ResNet-18); the head takes base_channels * 8 features.
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet_CIFAR', depth=18, num_stages=4, out_indices=(3, ), style='pytorch',
                  stem_channels=64, base_channels=64),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=512,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0), topk=(1, 5)))
