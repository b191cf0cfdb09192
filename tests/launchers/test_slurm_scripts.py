"""tools/slurm_train.sh on the real Slurm cluster: two srun tasks train one model with --launcher slurm (gloo)."""
import os
import socket
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = ["model.backbone.base_channels=8", "model.backbone.stem_channels=8", "model.head.in_channels=64",
        "data.train.max_samples=96", "data.val.max_samples=64", "data.test.max_samples=64",
        "data.samples_per_gpu=16", "log_config.interval=1", "lr_config.warmup_iters=2", "runner.max_epochs=1"]


@pytest.mark.slurm
@pytest.mark.mm
@pytest.mark.slow
def test_slurm_train_two_tasks(tmp_path, slurm_cluster):
    pytest.importorskip("mmcls")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PORT=str(port), GPUS="2", CPUS_PER_TASK="1", GRES="", PYTHON=sys.executable, OMP_NUM_THREADS="1")
    for name in ("GML_JOB_DIR", "GML_TASK", "GML_JOB_ID"):
        env.pop(name, None)
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


def test_usage_message():
    out = subprocess.run(["bash", os.path.join(ROOT, "tools", "slurm_train.sh"), "p"], capture_output=True, text=True)
    assert out.returncode == 2 and "usage" in out.stderr
    out = subprocess.run(["bash", os.path.join(ROOT, "tools", "slurm_test.sh"), "p", "j", "c"], capture_output=True,
                         text=True)
    assert out.returncode == 2 and "usage" in out.stderr
