# Factor Transfer: a paraphraser (an auto-encoder on the teacher's layer3 feature) is PRETRAINED on the teacher's
# features for `connector_pretrain.epochs` before the student's first epoch (its `pretrain_criterion` says so), then
# frozen; the student's translator learns to produce the paraphraser's factor (FactorTransferLoss, p=1).
_base_ = ['./kd_logits_mobilenet_v2_to_resnet18_w8_digits.py']
algorithm = dict(
    connector_pretrain=dict(epochs=1, optimizer=dict(type='Adam', lr=1e-3)),
    distiller=dict(distill_cfg=dict(distill_head_cfg=[
        dict(student_module='backbone.layer4', teacher_module='backbone.layer3',
             head=dict(type='gml.BaseDistillationHead', name='ft',
                       stu_connector=dict(type='gml.Translator', in_channels=64, factor_channels=16),
                       tea_connector=dict(type='gml.Paraphraser', in_channels=32, factor_channels=16,
                                          pretrain_criterion=dict(type='gml.FeatureMSELoss')),
                       loss=dict(type='gml.FactorTransferLoss', p=1, loss_weight=1.0))),
    ])))
