# The distillation student: mmcls ResNet-18 (CIFAR stem) at width 8 (about 1/64 of ResNet-18's parameters):
# configs/_base_/models/resnet18_cifar_digits.py with base and stem width 8 (the head takes 8 * 8 features).
_base_ = ['../_base_/models/resnet18_cifar_digits.py']
model = dict(backbone=dict(stem_channels=8, base_channels=8), head=dict(in_channels=64))
