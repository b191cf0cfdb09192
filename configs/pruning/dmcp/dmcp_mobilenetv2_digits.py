# DMCP channel pruning of a plain mmcls MobileNetV2 (widen_factor 0.5) on digits 32x32, with a supernet 1.5x
# wider than the model (width.max=1.5, as DMCP's MobileNetV2 runs): the search may keep layers wider than the
# configured model while cutting others. Model: 1.97 MFLOPs at 1.0x, the 1.5x supernet 4.25 MFLOPs; target 1.0.
#   python tools/train.py configs/pruning/dmcp/dmcp_mobilenetv2_digits.py --work-dir work_dirs/dmcp_mbv2
#   python tools/train.py configs/pruning/dmcp/dmcp_mobilenetv2_digits.py --work-dir work_dirs/dmcp_mbv2_retrain \
#       --cfg-options algorithm.retraining=True algorithm.channel_cfg=work_dirs/dmcp_mbv2/model_sample/expected.yaml
_base_ = ['./dmcp_resnet18_digits.py']

model = dict(
    type='mmcls.ImageClassifier',
    backbone=dict(type='mmcls.MobileNetV2', widen_factor=0.5),
    neck=dict(type='mmcls.GlobalAveragePooling'),
    head=dict(type='mmcls.LinearClsHead', num_classes=10, in_channels=1280,  # the supernet's width is derived
              loss=dict(type='mmcls.CrossEntropyLoss', loss_weight=1.0), topk=(1, 5)))

algorithm = dict(
    _delete_=True,
    type='gml.DMCP',
    model=model,
    algorithm_cfg=dict(arch_start_train=80, arch_train_freq=1, arch_sample_num=5, flops_tolerance=0.05),
    mutator=dict(
        type='gml.DMCPMutator',
        sample_width=None,
        arch_sample_type=['max', 'min', 'scheduled_random', 'arch_random'],
        arch_learning_rate=0.05,
        arch_weight_decay=1e-3,
        input_shape=(3, 32, 32),
        width=dict(max=1.5, min=0.1, offset=0.1)),
    distill_iter=80,
    floss_cfg=dict(target_flops=1.0, floss_type='l1', flop_loss_weight=1.0))  # MFLOPs

runner = dict(type='EpochBasedRunner', max_epochs=15)
