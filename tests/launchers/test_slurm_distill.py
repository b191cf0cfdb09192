"""A distillation config through tools/slurm_train.sh unchanged: two srun tasks (gloo on CPU) train the student with
a frozen teacher; the checkpoints hold no teacher."""
import os
import subprocess

import pytest

from launcher_helpers import srun_env

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KD = os.path.join(ROOT, "configs", "distill", "kd_logits_mobilenet_v2_to_resnet18_w8_digits.py")
TINY = ["data.train.max_samples=96", "data.val.max_samples=64", "data.samples_per_gpu=16", "log_config.interval=1",
        "lr_config.warmup_iters=2", "runner.max_epochs=1",
        "algorithm.distiller.distill_cfg.model.backbone.widen_factor=0.25"]


@pytest.mark.slurm
@pytest.mark.mm
@pytest.mark.slow
def test_slurm_train_distillation_two_tasks(tmp_path, slurm_cluster):
    pytest.importorskip("mmcls")
    import torch
    from mmcv import Config
    from mmcv.runner import save_checkpoint

    from gml.models import build_model

    cfg = Config.fromfile(KD)
    cfg.teacher_model.backbone.widen_factor = 0.25
    teacher = build_model(cfg.teacher_model)  # random weights: this checks the plumbing, not the teaching
    teacher.init_weights()
    save_checkpoint(teacher, str(tmp_path / "teacher.pth"))
    env = srun_env()
    work = tmp_path / "work"
    out = subprocess.run(["bash", os.path.join(ROOT, "tools", "slurm_train.sh"), "debug", "gml-kd-test", KD,
                          str(work), "--seed", "0", "--cfg-options", *TINY,
                          f"algorithm.distiller.distill_cfg.ckpt_path={tmp_path / 'teacher.pth'}"],
                         cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=400)
    assert out.returncode == 0, out.stderr[-4000:]
    log = next(p for p in work.iterdir() if p.suffix == ".log").read_text()
    assert "Distributed training: True" in log and "Epoch [1][3/3]" in log and "loss_kd" in log
    state = torch.load(work / "epoch_1.pth", map_location="cpu", weights_only=False)["state_dict"]
    assert all(k.startswith("model.") for k in state)
    assert (work / "student_latest.pth").exists()
