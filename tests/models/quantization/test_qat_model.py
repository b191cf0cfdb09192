"""gml.QuantizationAwareTraining with gml.TorchDefaultQuantizer in process: fusion, fake-quant, conversion to int8
(both backends), float checkpoints, export, and the absence of torch.ao's deprecation noise."""
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from gml.models import build_algorithm, build_model
from gml.models.quantization import QuantizationStage, supported_backends
from gml.models.quantization._ao import tq

BACKENDS = [b for b in ("fbgemm", "qnnpack", "x86") if b in supported_backends()]


def scores(algorithm, img):
    algorithm.eval()
    with torch.no_grad():
        return np.asarray(algorithm(img, return_loss=False))


def test_both_backends_are_available_here():
    assert {"fbgemm", "qnnpack"} <= set(BACKENDS)


def test_fusion_keeps_the_float_function(qat):
    """Fused conv+bn(+relu) with fake-quant and observers off computes what the float model computes."""
    cfg = qat.qat_config()
    float_model = build_model(cfg["model"])
    qat.train_steps(_Wrap(float_model), steps=2)  # non-trivial BN statistics
    algorithm = build_algorithm(cfg)
    algorithm.load_state_dict(float_model.state_dict(), strict=True)
    algorithm.eval()
    algorithm.apply(tq.disable_fake_quant)
    img, _ = qat.digits_batch(16, split="val")
    float_model.eval()
    with torch.no_grad():
        expected = float_model.extract_feat(img)[0]
        got = algorithm.model.extract_feat(img)[0]
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    backbone = algorithm.model.backbone
    assert type(backbone.conv1).__name__ == "ConvBnReLU2d" and isinstance(backbone.bn1, nn.Identity)
    assert type(backbone.layer1[0].conv2).__name__ == "ConvBn2d"
    assert type(backbone.layer2[0].downsample[0]).__name__ == "ConvBn2d"


class _Wrap(nn.Module):
    """A bare mmcls classifier speaking the algorithm's calls used by train_steps."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, img, **kwargs):
        return self.model.forward_train(img, **kwargs)

    def parse_losses(self, losses):
        return self.model._parse_losses(losses)


def test_fake_quant_is_inserted_in_the_region_only(qat):
    algorithm = build_algorithm(qat.qat_config())
    model = algorithm.model
    assert algorithm.stage is QuantizationStage.FAKE_QUANT
    assert isinstance(model.backbone.conv1.weight_fake_quant, tq.FakeQuantizeBase)
    assert isinstance(model.backbone.layer1[0].residual_add.activation_post_process, tq.FakeQuantizeBase)
    assert isinstance(model.quant_stubs.quant.activation_post_process, tq.FakeQuantizeBase)
    assert type(model.head.fc) is nn.Linear  # output_layer='neck': the head stays float
    # The backbone's output (a residual add's) lies on the int8 grid of that add's fake-quantizer.
    img, _ = qat.digits_batch(8)
    algorithm.train()
    with torch.no_grad():
        features = model.backbone(img)[0]
    fq = model.backbone.layer4[1].residual_add.activation_post_process
    levels = features / fq.scale + fq.zero_point
    assert torch.allclose(levels, levels.round(), atol=1e-3)
    assert 0 <= levels.min() and levels.max() <= 255


def test_eval_mode_freezes_the_observers(qat):
    algorithm = qat.train_steps(build_algorithm(qat.qat_config()), steps=1)
    scale = algorithm.model.quant_stubs.quant.activation_post_process.scale.clone()
    img, _ = qat.digits_batch(8, split="val")
    scores(algorithm, img * 3)  # inputs with a wider range would move a live observer
    assert torch.equal(algorithm.model.quant_stubs.quant.activation_post_process.scale, scale)
    algorithm.train()
    with torch.no_grad():
        algorithm(img * 3, gt_label=torch.zeros(8, dtype=torch.long))
    assert not torch.equal(algorithm.model.quant_stubs.quant.activation_post_process.scale, scale)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("model", ["resnet18", "mobilenet_v2"])
def test_int8_agrees_with_fake_quant(qat, backend, model):
    algorithm = qat.train_steps(build_algorithm(qat.qat_config(model, backend)))
    img, _ = qat.digits_batch(32, split="val")
    fake = scores(algorithm, img)
    algorithm.convert()
    int8 = scores(algorithm, img)
    assert algorithm.stage is QuantizationStage.INT8
    first_conv = algorithm.model.backbone.conv1
    first_conv = getattr(first_conv, "conv", first_conv)  # MobileNetV2: an mmcv ConvModule
    assert type(first_conv).__module__.startswith(("torch.ao.nn.quantized.", "torch.ao.nn.intrinsic.quantized."))
    assert np.abs(int8 - fake).max() < 0.05 and np.abs(int8 - fake).mean() < 0.005


def test_bottleneck_resnet_converts(qat):
    algorithm = qat.train_steps(build_algorithm(qat.qat_config("resnet50")), steps=2)
    img, _ = qat.digits_batch(16, split="val")
    fake = scores(algorithm, img)
    int8 = scores(algorithm.convert(), img)
    assert type(algorithm.model.backbone.layer1[0].residual_add).__name__ == "QFunctional"
    assert np.abs(int8 - fake).max() < 0.05


def test_float_checkpoint_loads_strictly_into_the_prepared_model(qat, tmp_path):
    """--load-from path: mmcv's load_checkpoint of a bare float checkpoint, strict: no key missing or unexpected."""
    from mmcv.runner import load_checkpoint, save_checkpoint

    cfg = qat.qat_config()
    float_model = build_model(cfg["model"])
    qat.train_steps(_Wrap(float_model), steps=1)
    save_checkpoint(float_model, str(tmp_path / "float.pth"))
    algorithm = build_algorithm(cfg)
    load_checkpoint(algorithm, str(tmp_path / "float.pth"), strict=True, logger="silent")
    fused = algorithm.model.backbone.layer1[0].conv1
    assert torch.equal(fused.weight, float_model.backbone.layer1[0].conv1.weight)
    assert torch.equal(fused.bn.running_var, float_model.backbone.layer1[0].bn1.running_var)
    assert torch.equal(algorithm.model.head.fc.weight, float_model.head.fc.weight)
    # A QAT checkpoint (quantization state included) round-trips too.
    qat.train_steps(algorithm, steps=1)
    save_checkpoint(algorithm, str(tmp_path / "qat.pth"))
    again = build_algorithm(cfg)
    load_checkpoint(again, str(tmp_path / "qat.pth"), strict=True, logger="silent")
    img, _ = qat.digits_batch(8, split="val")
    np.testing.assert_allclose(scores(again, img), scores(algorithm, img), atol=1e-6)


def test_int8_checkpoint_and_torchscript_reproduce_the_int8_model(qat, tmp_path):
    from mmcv.runner import load_checkpoint

    from gml.models.quantization import export

    cfg = qat.qat_config(backend="qnnpack")
    algorithm = qat.train_steps(build_algorithm(cfg), steps=2).convert()
    img, _ = qat.digits_batch(8, split="val")
    expected = scores(algorithm, img)
    export.save_int8_checkpoint(algorithm, str(tmp_path / "int8.pth"), meta={})
    loaded = build_algorithm(dict(cfg, converted=True))
    load_checkpoint(loaded, str(tmp_path / "int8.pth"), strict=True, logger="silent")
    np.testing.assert_allclose(scores(loaded, img), expected, atol=1e-6)
    export.save_torchscript(export.trace_scores(algorithm.model, img), str(tmp_path / "int8.pt"))
    with torch.no_grad():
        traced = export.load_torchscript(str(tmp_path / "int8.pt"))(img).numpy()
    np.testing.assert_allclose(traced, expected, atol=1e-6)
    float_bytes = export.serialized_bytes(export.float_weights(build_algorithm(cfg).model.state_dict(),
                                                               algorithm.quantization_state))
    assert export.serialized_bytes(algorithm.model.state_dict()) < float_bytes / 2


def test_an_int8_model_refuses_training(qat):
    algorithm = build_algorithm(dict(qat.qat_config(), converted=True))
    img, label = qat.digits_batch(4)
    with pytest.raises(RuntimeError, match="int8 model cannot be trained"):
        algorithm(img, gt_label=label)


def test_custom_qconfig_overrides_the_backend_default(qat):
    cfg = qat.qat_config(custom_qconfig=dict(
        weight=dict(observer="MovingAverageMinMaxObserver", qscheme="per_tensor_symmetric"),
        activation=dict(averaging_constant=0.5)))
    model = build_algorithm(cfg).model
    assert model.backbone.conv1.weight_fake_quant.qscheme == torch.per_tensor_symmetric
    assert model.backbone.conv1.activation_post_process.activation_post_process.averaging_constant == 0.5


def test_no_torch_ao_deprecation_notices(qat, recwarn):
    warnings.simplefilter("always")
    algorithm = qat.train_steps(build_algorithm(qat.qat_config()), steps=1)
    img, _ = qat.digits_batch(4, split="val")
    scores(algorithm.convert(), img)
    noise = [str(w.message)[:80] for w in recwarn if "deprecat" in str(w.message).lower()
             or "quant_min and quant_max" in str(w.message)]
    assert noise == []
