"""A float checkpoint with BatchNorm scales (gamma) of exactly 0 fine-tunes with fake-quant: PyTorch's fused
conv+BN training modules divide by gamma, so such a checkpoint used to make the very first loss NaN. A freshly
initialised mmcls ResNet has them (``zero_init_residual``: the last BN of every residual block), and so may a
pruned network."""
import math

import pytest
import torch
from mmcv.runner import load_checkpoint, save_checkpoint

from gml.models import build_algorithm, build_model
from gml.models.algorithms.qat import ZERO_BN_SCALE


@pytest.mark.parametrize("model", ["resnet18", "mobilenet_v2"])
def test_zero_bn_scales_of_a_float_checkpoint_train_finite(model, qat, tmp_path):
    cfg = qat.qat_config(model)
    float_model = build_model(cfg["model"])
    float_model.init_weights()
    if model == "mobilenet_v2":  # no zero-initialised BN there: zero one, as pruning a channel would
        with torch.no_grad():
            float_model.backbone.layer2[0].conv[2].bn.weight[:3] = 0
    zeros = {name: int((module.weight == 0).sum()) for name, module in float_model.named_modules()
             if isinstance(module, torch.nn.BatchNorm2d) and (module.weight == 0).any()}
    assert zeros  # the checkpoint really has them
    save_checkpoint(float_model, str(tmp_path / "float.pth"))

    algorithm = build_algorithm(cfg)
    algorithm.init_weights()
    with pytest.warns(UserWarning, match=r"BatchNorm scales of exactly 0"):
        load_checkpoint(algorithm, str(tmp_path / "float.pth"), map_location="cpu", strict=True)
    fused_bns = [m.bn for m in algorithm.model.modules() if hasattr(m, "weight_fake_quant") and hasattr(m, "bn")]
    assert fused_bns and all(bool((bn.weight != 0).all()) for bn in fused_bns)
    assert sum(int((bn.weight == ZERO_BN_SCALE).sum()) for bn in fused_bns) == sum(zeros.values())

    img, label = qat.digits_batch(16)
    algorithm.train()
    loss, _ = algorithm.parse_losses(algorithm(img, gt_label=label))
    assert math.isfinite(float(loss.detach()))
    loss.backward()
    # the revived scales learn (a dead channel would get no gradient)
    revived = [bn for bn in fused_bns if bool((bn.weight == ZERO_BN_SCALE).any())]
    assert any(float(bn.weight.grad[bn.weight == ZERO_BN_SCALE].abs().max()) > 0 for bn in revived)


def test_a_checkpoint_without_zero_scales_loads_unchanged_and_silently(qat, tmp_path, recwarn):
    cfg = qat.qat_config("resnet18")
    float_model = build_model(cfg["model"])  # BN scales 1 (no init_weights)
    save_checkpoint(float_model, str(tmp_path / "float.pth"))
    algorithm = build_algorithm(cfg)
    load_checkpoint(algorithm, str(tmp_path / "float.pth"), map_location="cpu", strict=True)
    assert not [w for w in recwarn if "BatchNorm scales" in str(w.message)]
    assert all(bool((m.bn.weight == 1).all()) for m in algorithm.model.modules() if hasattr(m, "weight_fake_quant")
               and hasattr(m, "bn"))
