# Plain mmcls ResNet-18 (CIFAR stem) on scikit-learn's digits at 32x32. No gml algorithm: tools/train.py builds
# cfg.model. Batches of 32 give 45 iterations per epoch (ResNet-18 needs the steps more than the batch size).
_base_ = [
    '../_base_/models/resnet18_cifar_digits.py', '../_base_/datasets/digits_32x32.py',
    '../_base_/schedules/digits_sgd_cosine.py', '../_base_/default_runtime.py'
]
data = dict(samples_per_gpu=32)
runner = dict(type='EpochBasedRunner', max_epochs=5)
seed = 0
