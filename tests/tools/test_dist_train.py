"""tools/dist_train.sh: two processes under torchrun, gloo on CPU (NCCL where there are GPUs)."""
import os
import socket
import subprocess
import sys

import pytest
import torch


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_dist_train_two_processes(tmp_path, mm):
    env = mm.child_env(PYTHON=sys.executable, PORT=str(_free_port()))
    command = ["bash", os.path.join(mm.ROOT, "tools", "dist_train.sh"),
               os.path.join(mm.CONFIGS, "digits", "resnet18_digits.py"), "2", "--work-dir", str(tmp_path),
               "--seed", "0", "--cfg-options", *mm.tiny_options(epochs=1), "data.samples_per_gpu=16"]
    proc = subprocess.run(command, cwd=mm.ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert "Distributed training: True" in proc.stderr
    ckpt = torch.load(tmp_path / "epoch_1.pth", map_location="cpu", weights_only=False)
    assert ckpt["meta"]["epoch"] == 1
    # 96 training samples, 2 processes x 16 per batch: 3 iterations per epoch on each rank.
    assert ckpt["meta"]["iter"] == 3
    (row,) = mm.val_log(tmp_path)
    assert 0.0 <= row["accuracy_top-1"] <= 100.0
