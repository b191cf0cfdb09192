# MEAL V2: two teachers (MobileNetV2 trained with seeds 0 and 1); the student learns ONLY from their averaged
# soft labels (no hard labels), plus a discriminator on logits. Train the teachers first:
#   python tools/train.py configs/digits/mobilenet_v2_digits.py --work-dir work_dirs/teacher_mbv2 --seed 0
#   python tools/train.py configs/digits/mobilenet_v2_digits.py --work-dir work_dirs/teacher_mbv2_s1 --seed 1
_base_ = ['./kd_logits_mobilenet_v2_to_resnet18_w8_digits.py']
algorithm = dict(
    _delete_=True,
    type='gml.TeacherStudentDistillation',
    model={{_base_.model}},
    distiller=dict(type='gml.TeacherDistiller', distill_cfg=[
        dict(model={{_base_.teacher_model}}, ckpt_path='work_dirs/teacher_mbv2/latest.pth'),
        dict(model={{_base_.teacher_model}}, ckpt_path='work_dirs/teacher_mbv2_s1/latest.pth'),
    ]),
    use_meal=True,
    meal=dict(tau=1.0, loss_weight=1.0, discriminator=dict(hidden=64, loss_weight=0.1)),
    pretrained=None)
