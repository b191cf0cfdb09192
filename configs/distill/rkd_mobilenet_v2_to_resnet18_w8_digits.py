# Relational KD on the pooled embeddings (student 64-d, teacher 1280-d: RKD compares distances and angles
# between the batch's samples, so the widths need no connector), plus soft labels.
_base_ = ['./kd_logits_mobilenet_v2_to_resnet18_w8_digits.py']
algorithm = dict(distiller=dict(distill_cfg=dict(distill_head_cfg=[
    dict(student_module='head.fc', teacher_module='head.fc',
         head=dict(type='gml.BaseDistillationHead', name='kd',
                   loss=dict(type='gml.KLDivergenceLoss', tau=4.0, loss_weight=1.0))),
    dict(student_module='neck', teacher_module='neck',
         head=dict(type='gml.BaseDistillationHead', name='rkd',
                   loss=dict(type='gml.RKDLoss', distance_weight=25.0, angle_weight=50.0, loss_weight=1.0))),
])))
