# Quantization-aware fine-tuning of the digits MobileNetV2 through PT2E (torch.export + torchao), then int8 on CPU.
#   python tools/train.py configs/digits/mobilenet_v2_digits.py --work-dir work_dirs/mbv2
#   python tools/train.py configs/quantization/qat_pt2e_mobilenet_v2_digits.py --work-dir work_dirs/qat_pt2e_mbv2 \
#       --load-from work_dirs/mbv2/latest.pth
# Needs torchao (pip install 'gml[quantization]'). The graph quantizer folds every conv+bn and quantizes the ReLU6s
# and residual adds itself: no fuse_config, no adapted blocks.
_base_ = ['../digits/mobilenet_v2_digits.py']

algorithm = dict(
    type='gml.QuantizationAwareTraining',
    model={{_base_.model}},
    quantizer=dict(type='gml.PT2EQuantizer', backend='x86', input_shape=[3, 32, 32], output_layer='neck'))

optimizer = dict(lr=0.005)
lr_config = dict(policy='CosineAnnealing', min_lr=0, warmup=None)
runner = dict(type='EpochBasedRunner', max_epochs=3)
