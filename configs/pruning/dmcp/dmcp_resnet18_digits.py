# DMCP channel pruning of a plain mmcls ResNet-18 (CIFAR stem, base width 16) on digits 32x32, to about half
# of its FLOPs. The model is the plain mmcls config; gml derives the channel groups (residual-tied channels share
# one). Small enough for a CPU:
#   python tools/train.py configs/pruning/dmcp/dmcp_resnet18_digits.py --work-dir work_dirs/dmcp_r18
# writes work_dirs/dmcp_r18/model_sample/{subnet_*,expected}.yaml; retrain one of them from scratch with
#   python tools/train.py configs/pruning/dmcp/dmcp_resnet18_digits.py --work-dir work_dirs/dmcp_r18_retrain \
#       --cfg-options algorithm.retraining=True algorithm.channel_cfg=work_dirs/dmcp_r18/model_sample/expected.yaml
_base_ = [
    '../../_base_/datasets/digits_32x32.py',
    '../../_base_/schedules/digits_sgd_cosine.py',
    '../../_base_/default_runtime.py',
    '../../_base_/search_eval_digits32.py',
]

# A plain mmcls classifier, as configs/_base_/models/resnet18_cifar_digits.py at a quarter of the width.
model = dict(
    type='mmcls.ImageClassifier',
    backbone=dict(type='mmcls.ResNet_CIFAR', depth=18, num_stages=4, out_indices=(3, ), style='pytorch',
                  stem_channels=16, base_channels=16),
    neck=dict(type='mmcls.GlobalAveragePooling'),
    head=dict(type='mmcls.LinearClsHead', num_classes=10, in_channels=128,
              loss=dict(type='mmcls.CrossEntropyLoss', loss_weight=1.0), topk=(1, 5)))

algorithm = dict(
    type='gml.DMCP',
    model=model,
    algorithm_cfg=dict(
        arch_start_train=80,  # iterations (23 per epoch): the weights alone first, then the architecture too
        arch_train_freq=1,
        arch_sample_num=5,
        flops_tolerance=0.05),
    mutator=dict(
        type='gml.DMCPMutator',
        sample_width=None,
        arch_sample_type=['max', 'min', 'scheduled_random', 'arch_random'],
        arch_learning_rate=0.05,  # Adam; DMCP's ImageNet runs use 0.5 over far more steps
        arch_weight_decay=1e-3,
        input_shape=(3, 32, 32),
        width=dict(max=1.0, min=0.1, offset=0.1)),
    distill_iter=80,
    floss_cfg=dict(target_flops=17.5, floss_type='l1', flop_loss_weight=1.0))  # MFLOPs (full model: 35.05)

# DMCP steps its two optimizers itself (weights: `optimizer`; architecture: Adam from the mutator's keys).
optimizer_config = None
optimizer = dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True)
runner = dict(type='EpochBasedRunner', max_epochs=10)
evaluation = dict(interval=5, metric='accuracy', metric_options=dict(topk=(1, 5)))
checkpoint_config = dict(interval=5, max_keep_ckpts=2)
seed = 0
