# Activation-boundary transfer: for the first `transfer_epochs` the student's layer4 (through a 1x1 conv + BN
# connector) learns only where the teacher's layer3 neurons are active (ActivationBoundaryLoss, margin 1); then it
# trains with its labels and soft labels. Distributed runs need find_unused_parameters = True.
_base_ = ['./kd_logits_mobilenet_v2_to_resnet18_w8_digits.py']
algorithm = dict(
    type='gml.ABTeacherStudentDistillation',
    transfer_epochs=1,
    distiller=dict(distill_cfg=dict(distill_head_cfg=[
        dict(student_module='backbone.layer4', teacher_module='backbone.layer3',
             head=dict(type='gml.BaseDistillationHead', name='ab',
                       stu_connector=dict(type='gml.ConvBNConnector', in_channels=64, out_channels=32),
                       loss=dict(type='gml.ActivationBoundaryLoss', margin=1.0, loss_weight=1.0))),
        dict(student_module='head.fc', teacher_module='head.fc',
             head=dict(type='gml.BaseDistillationHead', name='kd',
                       loss=dict(type='gml.KLDivergenceLoss', tau=4.0, loss_weight=1.0))),
    ])))
find_unused_parameters = True
