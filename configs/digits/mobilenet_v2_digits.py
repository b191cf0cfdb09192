# Plain mmcls MobileNetV2 on scikit-learn's digits at 32x32. No gml algorithm: tools/train.py builds cfg.model.
# About a minute on 2 CPU cores.
_base_ = [
    '../_base_/models/mobilenet_v2_digits.py', '../_base_/datasets/digits_32x32.py',
    '../_base_/schedules/digits_sgd_cosine.py', '../_base_/default_runtime.py'
]
runner = dict(type='EpochBasedRunner', max_epochs=15)
seed = 0
