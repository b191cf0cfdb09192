# Quantization-aware fine-tuning of the digits ResNet-18 through PT2E (torch.export + torchao), then int8 on CPU.
#   python tools/train.py configs/digits/resnet18_digits.py --work-dir work_dirs/r18                   # float model
#   python tools/train.py configs/quantization/qat_pt2e_resnet18_digits.py --work-dir work_dirs/qat_pt2e_r18 \
#       --load-from work_dirs/r18/latest.pth                                                              # QAT
#   python benchmarks/qat_step.py --config configs/quantization/qat_pt2e_resnet18_digits.py             # int8
# Needs torchao (pip install 'gml[quantization]'). No fuse_config: the graph quantizer finds conv+bn(+add)(+relu)
# patterns itself. See docs/quantization.md for when to use this path or gml.TorchDefaultQuantizer.
_base_ = ['../digits/resnet18_digits.py']

algorithm = dict(
    type='gml.QuantizationAwareTraining',
    model={{_base_.model}},
    quantizer=dict(
        type='gml.PT2EQuantizer',
        backend='x86',            # torchao's X86InductorQuantizer
        input_shape=[3, 32, 32],  # the digits pipeline's images; the batch size stays dynamic
        output_layer='neck'))     # backbone + neck quantized, the linear head stays float

optimizer = dict(lr=0.005)
lr_config = dict(policy='CosineAnnealing', min_lr=0, warmup=None)
runner = dict(type='EpochBasedRunner', max_epochs=3)
