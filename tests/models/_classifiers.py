"""Small mmcls classifiers on 32x32 inputs with 10 classes, shared by the helpers of several test folders
(distillation, quantization): import them as ``from .._classifiers import RESNET18_W8``."""

#: A narrow ResNet_CIFAR-18 (stem and base width 8; BasicBlocks with downsample branches).
RESNET18_W8 = dict(
    type='mmcls.ImageClassifier',
    backbone=dict(type='ResNet_CIFAR', depth=18, num_stages=4, out_indices=(3, ), style='pytorch',
                  stem_channels=8, base_channels=8),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=64, loss=dict(type='CrossEntropyLoss')))

#: mmcls's MobileNetV2 at a quarter width (InvertedResidual blocks with residual adds, ReLU6).
MOBILENET_V2_QUARTER = dict(
    type='mmcls.ImageClassifier', backbone=dict(type='MobileNetV2', widen_factor=0.25),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=1280, loss=dict(type='CrossEntropyLoss')))
