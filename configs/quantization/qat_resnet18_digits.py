# Quantization-aware fine-tuning of the digits ResNet-18 (configs/digits/resnet18_digits.py), then int8 on CPU.
#   python tools/train.py configs/digits/resnet18_digits.py --work-dir work_dirs/r18              # float model
#   python tools/train.py configs/quantization/qat_resnet18_digits.py --work-dir work_dirs/qat_r18 \
#       --load-from work_dirs/r18/latest.pth                                                         # QAT
#   python tools/quantize.py configs/quantization/qat_resnet18_digits.py work_dirs/qat_r18/latest.pth \
#       --out-dir work_dirs/qat_r18/int8                                                             # int8
# The float run keeps its data, schedule and runtime; only the model is wrapped, and the schedule is a short
# fine-tuning at a lower learning rate.
_base_ = ['../digits/resnet18_digits.py']

# ResNet_CIFAR-18: the stem, every BasicBlock (made quantization-ready by gml: the add and the ReLU after it become
# one int8 add_relu) and the 1x1 downsample branches are fused conv+bn(+relu).
fuse_config = {'backbone': ['conv1', 'bn1', 'relu']}
fuse_config.update({f'backbone.layer{stage}.{block}': [['conv1', 'bn1', 'relu'], ['conv2', 'bn2']]
                    for stage in (1, 2, 3, 4) for block in (0, 1)})
fuse_config.update({f'backbone.layer{stage}.0.downsample': ['0', '1'] for stage in (2, 3, 4)})

algorithm = dict(
    type='gml.QuantizationAwareTraining',
    model={{_base_.model}},
    quantizer=dict(
        type='gml.TorchDefaultQuantizer',
        backend='fbgemm',        # or 'x86', 'qnnpack' (ARM phones); see torch.backends.quantized.supported_engines
        input_layer='backbone',  # its input is quantized
        output_layer='neck',     # its output is dequantized: the linear head stays float
        fuse_config=fuse_config))

optimizer = dict(lr=0.005)
lr_config = dict(policy='CosineAnnealing', min_lr=0, warmup=None)
runner = dict(type='EpochBasedRunner', max_epochs=3)
