# The student trained ALONE (the baseline of the distillation configs in this folder): plain mmcls, no algorithm.
# ResNet-18 (CIFAR stem) at width 8 on scikit-learn's digits; the same data, schedule and seed handling as the
# distilled runs, so their difference is the teacher.
_base_ = [
    './_student_resnet18_w8.py', '../_base_/datasets/digits_32x32.py',
    '../_base_/schedules/digits_sgd_cosine.py', '../_base_/default_runtime.py'
]
runner = dict(type='EpochBasedRunner', max_epochs=10)
seed = 0
