# scikit-learn's digits (1,797 real 8x8 images, 10 classes), resized to 32x32 and repeated to 3 channels so that
# CIFAR-style backbones take them. Train/val: a stratified 80/20 split fixed by split_seed. No download needed.
# gml.DigitsDataset is registered by importing gml.models: stock OpenMMLab tools (mmcls's own train.py) need this.
custom_imports = dict(imports=['gml.models'], allow_failed_imports=False)
dataset_type = 'gml.DigitsDataset'
digits_cfg = dict(image_size=32, channels=3, val_fraction=0.2, split_seed=0)
img_norm_cfg = dict(mean=[77.8, 77.8, 77.8], std=[82.4, 82.4, 82.4], to_rgb=False)
train_pipeline = [
    dict(type='RandomCrop', size=32, padding=2),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='ImageToTensor', keys=['img']),
    dict(type='ToTensor', keys=['gt_label']),
    dict(type='Collect', keys=['img', 'gt_label']),
]
test_pipeline = [
    dict(type='Normalize', **img_norm_cfg),
    dict(type='ImageToTensor', keys=['img']),
    dict(type='Collect', keys=['img']),
]
data = dict(
    samples_per_gpu=64,
    workers_per_gpu=0,  # the images are in memory; worker processes would only compete for the CPU
    persistent_workers=False,  # mmcls's own train.py defaults to True, which needs worker processes
    pin_memory=False,
    train=dict(type=dataset_type, split='train', pipeline=train_pipeline, **digits_cfg),
    val=dict(type=dataset_type, split='val', pipeline=test_pipeline, **digits_cfg),
    test=dict(type=dataset_type, split='val', pipeline=test_pipeline, **digits_cfg))
evaluation = dict(interval=1, metric='accuracy', metric_options=dict(topk=(1, 5)))
