"""gml.QuantizationAwareTraining under tools/dist_train.sh (2 processes, gloo): the weights stay identical through
DDP, and so does the quantization state (observer ranges, scales, zero points), which QuantizationStateSyncHook
broadcasts from rank 0 after every iteration (mmcv's DDP wrapper leaves buffers per process)."""
import pytest
import torch
from mmcv import Config
from mmcv.runner import save_checkpoint

from gml.models import build_algorithm, build_model

pytestmark = pytest.mark.slow

QAT = "configs/quantization/qat_resnet18_digits.py"
MODEL = {"backbone.base_channels": 8, "backbone.stem_channels": 8, "head.in_channels": 64}
OPTIONS = [f"algorithm.model.{key}={value}" for key, value in MODEL.items()] + [
    "data.train.max_samples=96", "data.val.max_samples=64", "data.samples_per_gpu=16", "log_config.interval=1",
    "runner.max_epochs=1"]


def test_qat_weights_and_quantization_state_identical_across_ranks(tmp_path, dist_train, rank_probe):
    cfg = Config.fromfile(QAT)
    cfg.merge_from_dict({f"algorithm.model.{key}": value for key, value in MODEL.items()})
    torch.manual_seed(0)
    float_model = build_model(cfg.algorithm.model)
    for module in float_model.modules():  # trained-like BN scales (a fresh ResNet zero-initialises some)
        if isinstance(module, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(module.weight, 0.5, 1.5)
    save_checkpoint(float_model, str(tmp_path / "float.pth"))

    work = tmp_path / "work"
    dist_train(QAT, work, *OPTIONS, f"load_from={tmp_path / 'float.pth'}")
    assert not rank_probe.differing(*rank_probe.rank_params(work))
    buffers0, buffers1 = rank_probe.rank_params(work, "buffers")
    state = ["model." + name for name in build_algorithm(cfg.algorithm).quantization_state]
    assert any(name.endswith("activation_post_process.scale") for name in state)
    differ = rank_probe.differing({k: buffers0[k] for k in state}, {k: buffers1[k] for k in state})
    assert not differ, f"{len(differ)} of {len(state)} quantization buffers differ across ranks, e.g. {differ[:3]}"
    ckpt = torch.load(work / "epoch_1.pth", map_location="cpu", weights_only=False)["state_dict"]
    # the checkpoint holds that state (the probe ran after validation, which switches the observers off)
    assert all(torch.equal(ckpt[k], buffers0[k]) for k in state if not k.endswith("observer_enabled"))
