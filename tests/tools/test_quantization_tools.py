"""QAT through the tools, as child processes on real digits: float training -> QAT fine-tuning (--load-from the
float checkpoint) -> tools/quantize.py (int8 checkpoint, config, TorchScript) -> tools/test.py on the int8 model;
tools/dist_train.sh with a QAT config; bad quantizer input as a one-line error with exit code 2."""
import json
import os
import re
import socket
import subprocess
import sys

import pytest
import torch

QAT_R18 = ("quantization", "qat_resnet18_digits.py")
R18 = ("digits", "resnet18_digits.py")


def _load(path):
    return torch.load(path, map_location="cpu", weights_only=False)  # our own files, written by this test


@pytest.fixture(scope="module")
def qat_run(tmp_path_factory, mm):
    """A float epoch, then a QAT epoch that loads it."""
    root = tmp_path_factory.mktemp("qat")
    mm.run_tool("train.py", os.path.join(mm.CONFIGS, *R18), "--work-dir", str(root / "float"), "--seed", "0",
                "--cfg-options", *mm.tiny_options(epochs=1))
    proc = mm.run_tool("train.py", os.path.join(mm.CONFIGS, *QAT_R18), "--work-dir", str(root / "qat"), "--seed",
                       "0", "--load-from", str(root / "float" / "epoch_1.pth"),
                       "--cfg-options", *mm.tiny_options("algorithm.model.", epochs=1))
    return root, proc


@pytest.fixture(scope="module")
def quantized(qat_run, mm):
    root, _ = qat_run
    out = root / "int8"
    proc = mm.run_tool("quantize.py", os.path.join(mm.CONFIGS, *QAT_R18), str(root / "qat" / "epoch_1.pth"),
                       "--out-dir", str(out), "--out", str(root / "quantize.json"),
                       "--cfg-options", *mm.tiny_options("algorithm.model.", epochs=1))
    return out, json.loads((root / "quantize.json").read_text()), proc


@pytest.mark.slow  # the float -> QAT -> int8 chain: four tool runs
def test_qat_fine_tunes_from_the_float_checkpoint(qat_run, mm):
    root, proc = qat_run
    assert "load checkpoint from local path" in proc.stderr
    assert "missing keys" not in proc.stderr and "unexpected key" not in proc.stderr
    assert "DeprecationWarning" not in proc.stderr and "is deprecated" not in proc.stderr
    state = _load(root / "qat" / "epoch_1.pth")["state_dict"]
    assert "model.quant_stubs.quant.activation_post_process.scale" in state
    assert "model.backbone.layer1.0.conv1.bn.running_mean" in state  # fused conv+bn, trained from the float one
    (row,) = mm.val_log(root / "qat")
    assert 0.0 <= row["accuracy_top-1"] <= 100.0


@pytest.mark.slow  # the float -> QAT -> int8 chain: four tool runs
def test_quantize_writes_an_int8_model_that_agrees_with_fake_quant(quantized):
    out, results, proc = quantized
    assert {p.name for p in out.iterdir()} >= {"int8.pth", "int8_config.py", "int8_torchscript.pt"}
    assert "converted=True" in (out / "int8_config.py").read_text()
    # 64 test images: int8 and fake-quant predictions differ on at most 3 of them.
    assert abs(results["int8"]["accuracy_top-1"] - results["fake_quant"]["accuracy_top-1"]) <= 3 * 100 / 64
    assert results["torchscript_max_abs_diff"] < 1e-5
    assert results["size_ratio"] > 2.5  # a narrow (8-channel) model: per-channel scales weigh relatively more
    assert "DeprecationWarning" not in proc.stderr and "is deprecated" not in proc.stderr


@pytest.mark.slow  # the float -> QAT -> int8 chain: four tool runs
def test_test_py_evaluates_the_int8_artifact(quantized, tmp_path, mm):
    out, results, _ = quantized
    metrics_file = tmp_path / "metrics.json"
    proc = mm.run_tool("test.py", str(out / "int8_config.py"), str(out / "int8.pth"), "--out", str(metrics_file))
    metrics = json.loads(metrics_file.read_text())["metrics"]
    assert metrics["accuracy_top-1"] == pytest.approx(results["int8"]["accuracy_top-1"], abs=1e-6)
    assert "missing keys" not in proc.stderr and "is deprecated" not in proc.stderr


@pytest.mark.slow  # the float -> QAT -> int8 chain: four tool runs
def test_torchscript_runs_with_torch_alone(quantized, mm):
    out, _, _ = quantized
    script = ("import sys, torch; torch.backends.quantized.engine = 'fbgemm'; "
              "m = torch.jit.load(sys.argv[1]); s = m(torch.randn(2, 3, 32, 32)); "
              "print(tuple(s.shape), round(float(s.sum()), 3))")
    proc = subprocess.run([sys.executable, "-c", script, str(out / "int8_torchscript.pt")], capture_output=True,
                          text=True, env=mm.child_env(), timeout=120, check=True)
    assert proc.stdout.split("\n")[0] == "(2, 10) 2.0"  # softmax scores of 2 images, 10 classes


def test_bad_backend_is_a_one_line_config_error(tmp_path, mm):
    proc = mm.run_tool("train.py", os.path.join(mm.CONFIGS, *QAT_R18), "--work-dir", str(tmp_path),
                       "--cfg-options", "algorithm.quantizer.backend=tpu", check=False)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert re.search(r"algorithm\.quantizer\.backend: expected a quantized engine of this PyTorch build "
                     r"\([^)]+\): (\w+, )*\w+, got 'tpu'$", last), last
    assert "Traceback" not in proc.stderr


def test_quantize_refuses_a_config_without_qat(tmp_path, mm):
    proc = mm.run_tool("quantize.py", os.path.join(mm.CONFIGS, *R18), str(tmp_path / "x.pth"), "--out-dir",
                       str(tmp_path), check=False)
    assert proc.returncode == 2 and "algorithm" in proc.stderr and "Traceback" not in proc.stderr


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_dist_train_runs_qat(qat_run, tmp_path, mm):
    root, _ = qat_run
    env = mm.child_env(PYTHON=sys.executable, PORT=str(_free_port()))
    command = ["bash", os.path.join(mm.ROOT, "tools", "dist_train.sh"), os.path.join(mm.CONFIGS, *QAT_R18), "2",
               "--work-dir", str(tmp_path), "--seed", "0", "--load-from", str(root / "float" / "epoch_1.pth"),
               "--cfg-options", *mm.tiny_options("algorithm.model.", epochs=1), "data.samples_per_gpu=16"]
    proc = subprocess.run(command, cwd=mm.ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert "Distributed training: True" in proc.stderr
    state = _load(tmp_path / "epoch_1.pth")["state_dict"]
    assert "model.quant_stubs.quant.activation_post_process.scale" in state
