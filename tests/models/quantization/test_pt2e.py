"""gml.QuantizationAwareTraining with gml.PT2EQuantizer (torch.export + torchao): config errors, the captured
graph keeps the float function, QAT on digits, checkpoints, conversion to int8 and its saved program.

Capturing a model takes seconds and converting one about a minute on a shared 2-core machine (torchao captures its
~100 conv+bn patterns once per conversion), so the model is prepared, trained and converted once per module."""
import copy
import io
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

pytest.importorskip("torchao")

from gml.errors import GmlConfigError  # noqa: E402
from gml.models import build_algorithm, build_model  # noqa: E402
from gml.models.quantization import QuantizationStage  # noqa: E402
from gml.models.quantization._torchao import load_pt2e  # noqa: E402
from gml.models.quantization.pt2e import CapturedFeatures, save_int8_program  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def pt2e_config(model_cfg, **quantizer):
    quantizer = dict(dict(type="gml.PT2EQuantizer", backend="x86", input_shape=[3, 32, 32]), **quantizer)
    return dict(type="gml.QuantizationAwareTraining", model=copy.deepcopy(model_cfg), quantizer=quantizer)


def scores(algorithm, img):
    algorithm.eval()
    with torch.no_grad():
        return np.asarray(algorithm(img, return_loss=False))


def _error(cfg) -> str:
    with pytest.raises(GmlConfigError) as info:
        build_algorithm(cfg)
    return str(info.value)


# --- config errors (no capture needed) -----------------------------------------------------------------------------
@pytest.mark.parametrize("key, value, expected", [
    ("backend", "fbgemm", "x86"),
    ("input_shape", None, "[C, H, W]"),
    ("input_shape", [3, 32], "[C, H, W]"),
    ("input_shape", [3, 32, 0], "[C, H, W]"),
    ("output_layer", "head", "neck, backbone"),
])
def test_bad_quantizer_values_name_the_key(qat, key, value, expected):
    message = _error(pt2e_config(qat.MODELS["resnet18"][0], **{key: value}))
    assert f"algorithm.quantizer.{key}" in message and expected in message and repr(value) in message


def test_unknown_key_lists_the_pt2e_keys(qat):
    message = _error(pt2e_config(qat.MODELS["resnet18"][0], fuse_config={}))
    assert "algorithm.quantizer.fuse_config" in message
    assert all(key in message for key in ("backend", "input_shape", "output_layer"))


def test_converted_is_refused(qat):
    cfg = dict(pt2e_config(qat.MODELS["resnet18"][0]), converted=True)
    message = _error(cfg)
    assert "algorithm.converted" in message and "PT2EQuantizer" in message


def test_a_model_without_neck_names_the_model(qat):
    model = {k: v for k, v in qat.MODELS["resnet18"][0].items() if k != "neck"}
    assert "algorithm.model" in _error(pt2e_config(model)) and "neck" in _error(pt2e_config(model))


# --- one prepared, trained, converted model ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def flow(qat):
    """The float model, its PT2E QAT algorithm (float weights loaded, trained a few steps on digits), the
    fake-quant scores, the QAT state dict, then the int8 conversion."""
    model_cfg = qat.MODELS["resnet18"][0]
    torch.manual_seed(0)
    float_model = build_model(copy.deepcopy(model_cfg))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        algorithm = build_algorithm(pt2e_config(model_cfg))
        loaded = algorithm.load_state_dict(float_model.state_dict(), strict=True)
        float_model.eval()
        algorithm.eval()
        pt2e = load_pt2e("test")
        algorithm.apply(pt2e.disable_fake_quant)
        img, _ = qat.digits_batch(16, split="val")
        with torch.no_grad():
            float_feats = float_model.extract_feat(img)[0]
            captured_feats = algorithm.model.extract_feat(img)[0]
        algorithm.apply(pt2e.enable_fake_quant)
        qat.train_steps(algorithm, steps=4)
        fake_quant = scores(algorithm, img)
        state = copy.deepcopy(algorithm.state_dict())
        qat_float_bytes = _bytes({k: v for k, v in algorithm.model.state_dict().items()
                                  if k not in set(algorithm.quantization_state)})
        algorithm.convert()
        int8 = scores(algorithm, img)
    return dict(cfg=pt2e_config(model_cfg), algorithm=algorithm, img=img, loaded=loaded, float_feats=float_feats,
                captured_feats=captured_feats, fake_quant=fake_quant, int8=int8, state=state,
                qat_float_bytes=qat_float_bytes, warnings=caught)


def _bytes(state) -> int:
    buffer = io.BytesIO()
    torch.save(dict(state), buffer)
    return buffer.tell()


@pytest.mark.slow
def test_float_checkpoint_loads_and_the_capture_keeps_the_float_function(flow):
    assert not flow["loaded"].missing_keys and not flow["loaded"].unexpected_keys
    torch.testing.assert_close(flow["captured_feats"], flow["float_feats"], atol=1e-4, rtol=1e-4)


@pytest.mark.slow
def test_a_fresh_algorithm_refuses_to_convert_then_reloads_the_qat_checkpoint(flow):
    fresh = build_algorithm(flow["cfg"])
    with pytest.raises(RuntimeError, match="observed no data"):  # nothing observed yet: no int8 ranges
        fresh.convert()
    fresh.load_state_dict(flow["state"], strict=True)
    np.testing.assert_allclose(scores(fresh, flow["img"]), flow["fake_quant"], atol=1e-6)


@pytest.mark.slow
def test_int8_agrees_with_fake_quant(flow):
    fake_quant, int8 = flow["fake_quant"], flow["int8"]
    assert flow["algorithm"].stage is QuantizationStage.INT8
    diff = np.abs(fake_quant - int8)  # softmax scores
    assert diff.max() < 0.05 and diff.mean() < 0.005


@pytest.mark.slow
def test_int8_graph_holds_int8_weights_only(flow):
    captured = flow["algorithm"].model.backbone
    assert isinstance(captured, CapturedFeatures) and captured.int8
    state = captured.state_dict()
    int8_bytes = sum(v.numel() for v in state.values() if v.dtype == torch.int8)
    float_conv_weights = [k for k, v in state.items() if v.dtype == torch.float32 and v.dim() == 4]
    assert int8_bytes > 0 and float_conv_weights == []
    assert flow["qat_float_bytes"] / _bytes(flow["algorithm"].model.state_dict()) > 2.5


@pytest.mark.slow
def test_saved_int8_program_reproduces_the_int8_model(flow, tmp_path):
    path = str(tmp_path / "int8.pt2")
    img = flow["img"]
    save_int8_program(flow["algorithm"].model, img, path)
    loaded = torch.export.load(path).module()
    with torch.no_grad():
        np.testing.assert_allclose(loaded(img[:5]).numpy(), flow["int8"][:5], atol=1e-5)


@pytest.mark.slow
def test_no_deprecation_or_import_notices(flow):
    noise = [str(w.message)[:100] for w in flow["warnings"] if issubclass(w.category, (DeprecationWarning,
                                                                                       FutureWarning))]
    assert noise == []


@pytest.mark.slow
def test_output_layer_backbone_leaves_the_neck_float(qat):
    algorithm = build_algorithm(pt2e_config(qat.MODELS["resnet18"][0], output_layer="backbone"))
    model = algorithm.model
    assert isinstance(model.backbone, CapturedFeatures) and type(model.neck).__name__ == "GlobalAveragePooling"
    img, label = qat.digits_batch(8)
    losses = algorithm(img, gt_label=label)
    assert torch.isfinite(losses["loss"])


# --- through tools/train.py ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_tools_train_resume_and_quantize_with_pt2e(tmp_path):
    """A real tools/train.py run of the PT2E config on digits, then --resume-from its checkpoint: the captured graph
    is rebuilt, the checkpoint (float weights + fake-quant state) loads, training goes on; stderr holds no torchao
    import or deprecation notices. tools/quantize.py then writes the int8 torch.export program, which runs at
    another batch size than the one it was exported with."""
    options = ["algorithm.model.backbone.base_channels=8", "algorithm.model.backbone.stem_channels=8",
               "algorithm.model.head.in_channels=64", "data.train.max_samples=64", "data.val.max_samples=32",
               "data.samples_per_gpu=32", "log_config.interval=1"]
    config = os.path.join(ROOT, "configs", "quantization", "qat_pt2e_resnet18_digits.py")
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=ROOT)
    env.pop("GML_JOB_DIR", None)
    work = str(tmp_path / "work")

    def tool(name, *args):
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", name), config, *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "Failed to load" not in proc.stderr and "DeprecationWarning" not in proc.stderr
        return proc

    tool("train.py", "--work-dir", work, "--device", "cpu", "--cfg-options", *options, "runner.max_epochs=1")
    assert os.path.exists(os.path.join(work, "epoch_1.pth"))
    resumed = tool("train.py", "--work-dir", work, "--device", "cpu", "--resume-from",
                   os.path.join(work, "epoch_1.pth"), "--cfg-options", *options, "runner.max_epochs=2")
    assert "resumed epoch 1" in resumed.stderr + resumed.stdout
    assert os.path.exists(os.path.join(work, "epoch_2.pth"))

    out = str(tmp_path / "int8")
    tool("quantize.py", os.path.join(work, "epoch_2.pth"), "--out-dir", out, "--no-eval", "--out",
         os.path.join(out, "metrics.json"), "--cfg-options", *options)
    assert sorted(os.listdir(out)) == ["int8_program.pt2", "metrics.json"]
    program = torch.export.load(os.path.join(out, "int8_program.pt2")).module()
    with torch.no_grad():
        scores_3 = program(torch.randn(3, 3, 32, 32))
    assert scores_3.shape == (3, 10)
    torch.testing.assert_close(scores_3.sum(1), torch.ones(3))
