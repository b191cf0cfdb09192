# Soft-label distillation (Hinton et al.): the student of resnet18_w8_digits.py learns from its labels AND from the
# temperature-softened logits of a MobileNetV2 teacher trained first with configs/digits/mobilenet_v2_digits.py:
#   python tools/train.py configs/digits/mobilenet_v2_digits.py --work-dir work_dirs/teacher_mbv2 --seed 0
# Same data, schedule and runtime as the student alone (resnet18_w8_digits.py); only `algorithm` is added.
_base_ = ['./resnet18_w8_digits.py']
teacher_ckpt = 'work_dirs/teacher_mbv2/latest.pth'
teacher_model = dict(
    type='ImageClassifier',
    backbone=dict(type='MobileNetV2', widen_factor=1.0),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=1280,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0), topk=(1, 5)))
algorithm = dict(
    type='gml.TeacherStudentDistillation',
    model={{_base_.model}},
    distiller=dict(
        type='gml.TeacherDistiller',
        distill_cfg=dict(
            model=teacher_model,
            ckpt_path=teacher_ckpt,
            distill_head_cfg=[
                dict(student_module='head.fc', teacher_module='head.fc',
                     head=dict(type='gml.BaseDistillationHead', name='kd',
                               loss=dict(type='gml.KLDivergenceLoss', tau=4.0, loss_weight=1.0))),
            ])),
    use_meal=False,
    pretrained=None)
