"""QAT in the user contract's form: ``algorithm=dict(model=..., quantizer=dict(type='TorchDefaultQuantizer', ...))``
with no algorithm ``type`` (it means gml.QuantizationAwareTraining) and an unscoped quantizer name, trained one epoch
on digits by tools/train.py as a child process."""
import os

import torch

CONTRACT_FORM = """
_base_ = [{base!r}]
fuse_config = {{'backbone': ['conv1', 'bn1', 'relu']}}
fuse_config.update({{f'backbone.layer{{stage}}.{{block}}': [['conv1', 'bn1', 'relu'], ['conv2', 'bn2']]
                    for stage in (1, 2, 3, 4) for block in (0, 1)}})
fuse_config.update({{f'backbone.layer{{stage}}.0.downsample': ['0', '1'] for stage in (2, 3, 4)}})
algorithm = dict(
    model={{{{_base_.model}}}},
    quantizer=dict(type='TorchDefaultQuantizer', backend='qnnpack', input_layer='backbone', output_layer='neck',
                   fuse_config=fuse_config, custom_qconfig=dict(activation=dict(reduce_range=True))))
optimizer = dict(lr=0.005)
"""


def test_a_typeless_qat_algorithm_trains_one_epoch_on_digits(tmp_path, mm):
    config = tmp_path / "qat_contract_form.py"
    config.write_text(CONTRACT_FORM.format(base=os.path.join(mm.CONFIGS, "digits", "resnet18_digits.py")))
    work = tmp_path / "qat"
    mm.run_tool("train.py", str(config), "--work-dir", str(work), "--seed", "0",
                "--cfg-options", *mm.tiny_options("algorithm.model.", epochs=1))
    checkpoint = torch.load(work / "epoch_1.pth", map_location="cpu", weights_only=False)  # written by this test
    state = checkpoint["state_dict"]
    assert "model.quant_stubs.quant.activation_post_process.scale" in state   # fake-quant, prepared by the quantizer
    assert "model.backbone.layer1.0.conv1.bn.running_mean" in state          # conv+bn fused per fuse_config
    (row,) = mm.val_log(work)
    assert 0.0 <= row["accuracy_top-1"] <= 100.0
    from gml.models import build_algorithm
    from gml.models.algorithms.qat import QuantizationAwareTraining
    from gml.models.builder import load_config

    algorithm = build_algorithm(load_config(str(config)).algorithm)
    assert isinstance(algorithm, QuantizationAwareTraining) and algorithm.quantizer.backend == "qnnpack"


def test_a_typeless_algorithm_without_a_quantizer_exits_2_naming_algorithm_type(tmp_path, mm):
    config = tmp_path / "typeless.py"
    config.write_text(f"_base_ = [{os.path.join(mm.CONFIGS, 'digits', 'resnet18_digits.py')!r}]\n"
                      "algorithm = dict(model={{_base_.model}}, mutator=dict(type='gml.StatelessMutator'))\n")
    proc = mm.run_tool("train.py", str(config), "--work-dir", str(tmp_path / "w"), check=False)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "algorithm.type: missing; expected one of" in proc.stderr and "gml.QuantizationAwareTraining" in proc.stderr
    assert "Traceback" not in proc.stderr
