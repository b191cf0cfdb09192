# Feature distillation on top of soft labels: FitNets' hint (the student's layer4, 64 channels at 4x4, through a
# 1x1 conv + BN connector, regresses the teacher's layer3, 32 channels at 4x4) and attention transfer on the same
# pair of maps. Teacher: configs/digits/mobilenet_v2_digits.py trained first (see kd_logits_*.py).
_base_ = ['./kd_logits_mobilenet_v2_to_resnet18_w8_digits.py']
algorithm = dict(distiller=dict(distill_cfg=dict(distill_head_cfg=[
    dict(student_module='head.fc', teacher_module='head.fc',
         head=dict(type='gml.BaseDistillationHead', name='kd',
                   loss=dict(type='gml.KLDivergenceLoss', tau=4.0, loss_weight=1.0))),
    dict(student_module='backbone.layer4', teacher_module='backbone.layer3',
         head=dict(type='gml.BaseDistillationHead', name='fitnet',
                   stu_connector=dict(type='gml.ConvBNConnector', in_channels=64, out_channels=32),
                   loss=dict(type='gml.FeatureMSELoss', loss_weight=1.0))),
    dict(student_module='backbone.layer4', teacher_module='backbone.layer3',
         head=dict(type='gml.BaseDistillationHead', name='at',
                   loss=dict(type='gml.AttentionTransferLoss', p=2, loss_weight=100.0))),
])))
