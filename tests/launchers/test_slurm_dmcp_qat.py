"""DMCP pruning and QAT configs through tools/slurm_train.sh unchanged, on the real Slurm cluster: two srun tasks
(gloo on CPU). RankProbeHook (tests/models/dist/gml_rank_probe.py) saves each task's parameters, which must be
identical (and so must QAT's quantization state); the QAT checkpoint then converts to int8 with tools/quantize.py.
QAT runs both ways: the eager quantizer and PT2E (a torch.export graph inside DDP)."""
import json
import os
import subprocess
import sys

import pytest

from launcher_helpers import srun_env

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROBE_DIR = os.path.join(ROOT, "tests", "models", "dist")
DATA = ["data.train.max_samples=96", "data.val.max_samples=64", "data.test.max_samples=64",
        "data.samples_per_gpu=16", "log_config.interval=1", "lr_config.warmup_iters=2"]

pytestmark = [pytest.mark.slurm, pytest.mark.mm, pytest.mark.slow]


@pytest.fixture(scope="module")
def probe():
    pytest.importorskip("mmcls")
    sys.path.insert(0, PROBE_DIR)
    import gml_rank_probe

    return gml_rank_probe


def _slurm_train(probe, config, work, tmp_path, *options):
    env = srun_env(PYTHONPATH=PROBE_DIR)  # slurm_train.sh puts the repository in front
    out = subprocess.run(["bash", os.path.join(ROOT, "tools", "slurm_train.sh"), "debug", "gml-dist-test",
                          probe.probed_config(config, tmp_path), str(work), "--seed", "0", "--cfg-options", *options],
                         cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=500)
    assert out.returncode == 0, out.stderr[-5000:]
    log = next(p for p in work.iterdir() if p.suffix == ".log").read_text()
    assert "Distributed training: True" in log
    return log


def test_slurm_train_dmcp_two_tasks(tmp_path, slurm_cluster, probe):
    """Weight and architecture steps (from iteration 1) on 2 tasks, with find_unused_parameters=True as some mm
    configs set it: identical parameters on both tasks, one structure export (rank 0)."""
    work = tmp_path / "work"
    log = _slurm_train(probe, "configs/pruning/dmcp/dmcp_resnet_digits16.py", work, tmp_path, *DATA,
                       "runner.max_epochs=2", "evaluation.interval=2", "search_eval_cfg.interval=2",
                       "algorithm.algorithm_cfg.arch_start_train=1", "algorithm.distill_iter=2",
                       "find_unused_parameters=True")
    rank0, rank1 = probe.rank_params(work)
    assert not probe.differing(rank0, rank1)
    assert any(name.startswith("mutator.alphas.") for name in rank0)
    assert "Epoch [2][3/3]" in log and "arch.task_loss" in log
    assert (work / "structure_writers.txt").read_text() == "0\n"
    summary = json.loads((work / "model_sample" / "summary.json").read_text())
    assert summary["target_mflops"] == pytest.approx(3.33)


def test_slurm_train_qat_then_quantize(tmp_path, slurm_cluster, probe):
    """QAT fine-tuning from a float checkpoint on 2 tasks; the fake-quant checkpoint loads into tools/quantize.py,
    which converts it to int8 and evaluates both."""
    import torch
    from mmcv import Config
    from mmcv.runner import save_checkpoint

    from gml.models import build_algorithm, build_model

    qat = "configs/quantization/qat_resnet18_digits.py"
    model_options = ["backbone.base_channels=8", "backbone.stem_channels=8", "head.in_channels=64"]
    cfg = Config.fromfile(os.path.join(ROOT, qat))
    cfg.merge_from_dict({f"algorithm.model.{o.split('=')[0]}": int(o.split("=")[1]) for o in model_options})
    torch.manual_seed(0)
    float_model = build_model(cfg.algorithm.model)  # random float weights: this checks the plumbing
    float_model.init_weights()
    save_checkpoint(float_model, str(tmp_path / "float.pth"))

    work = tmp_path / "work"
    options = [f"algorithm.model.{o}" for o in model_options] + DATA + ["runner.max_epochs=1"]
    log = _slurm_train(probe, qat, work, tmp_path, *options, f"load_from={tmp_path / 'float.pth'}")
    assert "load checkpoint from local path" in log and "Epoch [1][3/3]" in log
    assert not probe.differing(*probe.rank_params(work))
    quantization = {"model." + name for name in build_algorithm(cfg.algorithm).quantization_state}
    buffers = [{k: v for k, v in b.items() if k in quantization} for b in probe.rank_params(work, "buffers")]
    assert buffers[0] and not probe.differing(*buffers)  # QuantizationStateSyncHook
    state = torch.load(work / "epoch_1.pth", map_location="cpu", weights_only=False)["state_dict"]
    assert "model.quant_stubs.quant.activation_post_process.scale" in state

    _quantize_within_three_images(qat, work / "epoch_1.pth", tmp_path, options)
    assert (tmp_path / "int8" / "int8.pth").exists()


def test_slurm_train_pt2e_qat_then_quantize(tmp_path, slurm_cluster, probe):
    """PT2E QAT (gml.PT2EQuantizer: a torch.export graph under DDP, gloo) on 2 tasks from scratch: identical
    weights and quantization state on both, a checkpoint, and tools/quantize.py converts it to the int8 program."""
    pytest.importorskip("torchao")
    import torch

    qat = "configs/quantization/qat_pt2e_resnet18_digits.py"
    options = ["algorithm.model.backbone.base_channels=8", "algorithm.model.backbone.stem_channels=8",
               "algorithm.model.head.in_channels=64"] + DATA + ["runner.max_epochs=1"]
    work = tmp_path / "work"
    log = _slurm_train(probe, qat, work, tmp_path, *options)
    assert "Epoch [1][3/3]" in log
    rank0, rank1 = probe.rank_params(work)
    assert any(".graph." in name for name in rank0)  # the captured graph's parameters, trained under DDP
    assert not probe.differing(rank0, rank1)
    buffers = [{k: v for k, v in b.items() if "activation_post_process" in k} for b in probe.rank_params(work, "buffers")]
    assert buffers[0] and not probe.differing(*buffers)  # QuantizationStateSyncHook
    state = torch.load(work / "epoch_1.pth", map_location="cpu", weights_only=False)["state_dict"]
    assert any(k.startswith("model.backbone.graph.") for k in state)

    _quantize_within_three_images(qat, work / "epoch_1.pth", tmp_path, options)
    assert (tmp_path / "int8" / "int8_program.pt2").exists()


def _quantize_within_three_images(qat, checkpoint, tmp_path, options):
    """tools/quantize.py converts ``checkpoint`` into ``tmp_path/int8``; the int8 model's top-1 on the 64 test
    images is within 3 images of the fake-quant model's."""
    out = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "quantize.py"), os.path.join(ROOT, qat),
                          str(checkpoint), "--out-dir", str(tmp_path / "int8"), "--out",
                          str(tmp_path / "quantize.json"), "--cfg-options", *options],
                         cwd=ROOT, env=srun_env(PYTHONPATH=ROOT), capture_output=True, text=True, timeout=400)
    assert out.returncode == 0, out.stderr[-4000:]
    results = json.loads((tmp_path / "quantize.json").read_text())
    assert abs(results["int8"]["accuracy_top-1"] - results["fake_quant"]["accuracy_top-1"]) <= 3 * 100 / 64
