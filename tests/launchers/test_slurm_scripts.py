"""tools/slurm_train.sh and tools/slurm_test.sh on the real Slurm cluster: two srun tasks train one model, or test a
checkpoint, with --launcher slurm (gloo on CPU)."""
import json
import os
import subprocess
import sys

import pytest

from launcher_helpers import srun_env

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["model.backbone.base_channels=8", "model.backbone.stem_channels=8", "model.head.in_channels=64",
        "data.train.max_samples=96", "data.val.max_samples=64", "data.test.max_samples=64",
        "data.samples_per_gpu=16", "log_config.interval=1", "lr_config.warmup_iters=2", "runner.max_epochs=1"]


R18 = os.path.join(ROOT, "configs", "digits", "resnet18_digits.py")


@pytest.mark.slurm
@pytest.mark.mm
@pytest.mark.slow
def test_slurm_train_two_tasks(tmp_path, slurm_cluster):
    pytest.importorskip("mmcls")
    env = srun_env()
    out = subprocess.run(["bash", os.path.join(ROOT, "tools", "slurm_train.sh"), "debug", "gml-train-test",
                          os.path.join(ROOT, "configs", "digits", "resnet18_digits.py"), str(tmp_path),
                          "--seed", "0", "--cfg-options", *TINY], cwd=str(tmp_path), env=env, capture_output=True,
                         text=True, timeout=400)
    assert out.returncode == 0, out.stderr[-4000:]
    assert (tmp_path / "epoch_1.pth").exists()
    log = next(p for p in tmp_path.iterdir() if p.suffix == ".log").read_text()
    assert "Distributed training: True" in log
    # 96 samples over 2 ranks x 16 per batch: 3 iterations per epoch on each rank
    assert "Epoch [1][3/3]" in log


@pytest.mark.slurm
@pytest.mark.mm
@pytest.mark.slow
def test_slurm_test_two_tasks_reproduces_single_process(tmp_path, slurm_cluster):
    """Train one epoch, test the checkpoint in one process, then with 2 srun tasks: same scores, same accuracy.

    63 test samples over 2 ranks: the sampler pads rank 1 with a repeated sample, which must be cut off again."""
    pytest.importorskip("mmcls")
    env = srun_env()
    env["PYTHONPATH"] = ROOT
    options = TINY + ["data.val.max_samples=63", "data.test.max_samples=63"]
    work = tmp_path / "work"
    train = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "train.py"), R18, "--work-dir", str(work),
                            "--seed", "0", "--cfg-options", *options], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=300)
    assert train.returncode == 0, train.stderr[-4000:]
    checkpoint = str(work / "epoch_1.pth")
    single = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "test.py"), R18, checkpoint, "--out",
                             str(tmp_path / "single.json"), "--out-items", "class_scores", "--cfg-options", *options],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr[-4000:]
    out = subprocess.run(["bash", os.path.join(ROOT, "tools", "slurm_test.sh"), "debug", "gml-test-test", R18,
                          checkpoint, "--out", str(tmp_path / "slurm.json"), "--out-items", "class_scores",
                          "--cfg-options", *options], cwd=str(tmp_path), env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    reference = json.loads((tmp_path / "single.json").read_text())
    distributed = json.loads((tmp_path / "slurm.json").read_text())
    assert out.stdout.count("accuracy_top-1:") == 1  # rank 0 alone reports
    assert distributed["metrics"] == pytest.approx(reference["metrics"], abs=1e-4)
    assert len(distributed["class_scores"]) == len(reference["class_scores"]) == 63
    for got, want in zip(distributed["class_scores"], reference["class_scores"]):
        assert got == pytest.approx(want, abs=1e-5)


def test_usage_message():
    out = subprocess.run(["bash", os.path.join(ROOT, "tools", "slurm_train.sh"), "p"], capture_output=True, text=True)
    assert out.returncode == 2 and "usage" in out.stderr
    out = subprocess.run(["bash", os.path.join(ROOT, "tools", "slurm_test.sh"), "p", "j", "c"], capture_output=True,
                         text=True)
    assert out.returncode == 2 and "usage" in out.stderr
