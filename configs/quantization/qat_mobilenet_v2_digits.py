# Quantization-aware fine-tuning of the digits MobileNetV2 (configs/digits/mobilenet_v2_digits.py), then int8.
#   python tools/train.py configs/digits/mobilenet_v2_digits.py --work-dir work_dirs/mbv2
#   python tools/train.py configs/quantization/qat_mobilenet_v2_digits.py --work-dir work_dirs/qat_mbv2 \
#       --load-from work_dirs/mbv2/latest.pth
#   python tools/quantize.py configs/quantization/qat_mobilenet_v2_digits.py work_dirs/qat_mbv2/latest.pth \
#       --out-dir work_dirs/qat_mbv2/int8
_base_ = ['../digits/mobilenet_v2_digits.py']

# Every mmcv ConvModule of mmcls's MobileNetV2 fuses conv+bn (PyTorch does not fuse ReLU6; it stays a separate
# int8 ReLU6). Blocks per stage as in mmcls's arch_settings; the first stage's blocks (expand_ratio 1) have two
# ConvModules, the others three. The residual adds are made int8 adds by gml.
_blocks_per_stage = (1, 2, 3, 4, 3, 3, 1)
fuse_config = {'backbone.conv1': ['conv', 'bn'], 'backbone.conv2': ['conv', 'bn']}
fuse_config.update({f'backbone.layer{stage + 1}.{block}.conv.{conv}': ['conv', 'bn']
                    for stage, blocks in enumerate(_blocks_per_stage) for block in range(blocks)
                    for conv in range(2 if stage == 0 else 3)})

algorithm = dict(
    type='gml.QuantizationAwareTraining',
    model={{_base_.model}},
    quantizer=dict(type='gml.TorchDefaultQuantizer', backend='fbgemm', input_layer='backbone',
                   output_layer='neck', fuse_config=fuse_config))

optimizer = dict(lr=0.005)
lr_config = dict(policy='CosineAnnealing', min_lr=0, warmup=None)
runner = dict(type='EpochBasedRunner', max_epochs=3)
