"""Distillation through the unchanged tools: tools/train.py, tools/test.py, dist_train.sh and search-run, as real
child processes on real digits. The teacher is a real mmcv checkpoint of a MobileNetV2 (widen 0.25, random weights:
these tests check the plumbing; benchmarks/distill_digits.py measures what a trained teacher teaches)."""
import json
import os
import socket
import subprocess
import sys

import pytest
import torch
import yaml

KD = os.path.join("configs", "distill", "kd_logits_mobilenet_v2_to_resnet18_w8_digits.py")
FT = os.path.join("configs", "distill", "ft_mobilenet_v2_to_resnet18_w8_digits.py")
STUDENT = os.path.join("configs", "distill", "resnet18_w8_digits.py")
# the paraphraser reads the teacher's layer3: 8 channels at widen_factor 0.25
FT_TEACHER_WIDTH = "algorithm.distiller.distill_cfg.distill_head_cfg.0.head.tea_connector.in_channels=8"
TINY = ["data.train.max_samples=96", "data.val.max_samples=64", "data.test.max_samples=64",
        "data.samples_per_gpu=32", "log_config.interval=1", "lr_config.warmup_iters=2", "runner.max_epochs=1"]


def teacher_options(ckpt):
    return [f"algorithm.distiller.distill_cfg.ckpt_path={ckpt}",
            "algorithm.distiller.distill_cfg.model.backbone.widen_factor=0.25"]


@pytest.fixture(scope="module")
def teacher_ckpt(tmp_path_factory):
    from mmcv import Config
    from mmcv.runner import save_checkpoint

    from gml.models import build_model

    cfg = Config.fromfile(os.path.join(os.path.dirname(__file__), "..", "..", KD))
    cfg.teacher_model.backbone.widen_factor = 0.25
    torch.manual_seed(0)
    model = build_model(cfg.teacher_model)
    model.init_weights()
    path = tmp_path_factory.mktemp("teacher") / "teacher.pth"
    save_checkpoint(model, str(path))
    return str(path)


@pytest.fixture(scope="module")
def kd_run(tmp_path_factory, teacher_ckpt, mm):
    work = tmp_path_factory.mktemp("kd")
    proc = mm.run_tool("train.py", KD, "--work-dir", str(work), "--seed", "0",
                       "--cfg-options", *TINY, *teacher_options(teacher_ckpt))
    return work, proc


def _load(path):
    return torch.load(path, map_location="cpu", weights_only=False)  # files this test's runs wrote


def test_kd_checkpoint_holds_student_and_no_teacher(kd_run, mm):
    work, proc = kd_run
    state = _load(work / "epoch_1.pth")["state_dict"]
    assert any(k.startswith("model.backbone.") for k in state)
    assert all(k.startswith("model.") for k in state)  # logits KD: no connector, no teacher
    assert "loss_kd" in (work / [f for f in os.listdir(work) if f.endswith(".log.json")][0]).read_text()
    (row,) = mm.val_log(work)
    assert 0.0 <= row["accuracy_top-1"] <= 100.0


def test_student_checkpoint_loads_into_plain_mmcls_and_tests_the_same(kd_run, teacher_ckpt, tmp_path, mm):
    from mmcls.models import build_classifier
    from mmcv import Config
    from mmcv.runner import load_checkpoint

    work, _ = kd_run
    student_ckpt = str(work / "student_latest.pth")
    cfg = Config.fromfile(os.path.join(mm.ROOT, STUDENT))
    model = build_classifier(cfg.model)
    load_checkpoint(model, student_ckpt, map_location="cpu", strict=True, logger="silent")
    full = _load(work / "epoch_1.pth")["state_dict"]
    for key, value in model.state_dict().items():
        assert torch.equal(value, full[f"model.{key}"]), key
    logged = mm.val_log(work)[-1]["accuracy_top-1"]
    plain = mm.run_tool("test.py", STUDENT, student_ckpt, "--out", str(tmp_path / "plain.json"), "--cfg-options",
                        *TINY)
    algo = mm.run_tool("test.py", KD, str(work / "epoch_1.pth"), "--out", str(tmp_path / "algo.json"),
                       "--cfg-options", *TINY, *teacher_options(teacher_ckpt))
    for out in ("plain.json", "algo.json"):
        metrics = json.loads((tmp_path / out).read_text())["metrics"]
        assert metrics["accuracy_top-1"] == pytest.approx(logged, abs=1e-3), out
    assert "missing keys" not in plain.stderr + algo.stderr and "unexpected key" not in plain.stderr + algo.stderr


def test_paraphraser_pretraining_runs_before_training(tmp_path, teacher_ckpt, mm):
    proc = mm.run_tool("train.py", FT, "--work-dir", str(tmp_path), "--seed", "0",
                       "--cfg-options", *TINY, *teacher_options(teacher_ckpt),
                       FT_TEACHER_WIDTH)
    log = proc.stdout + proc.stderr
    pretrain_at = log.index("connector pretraining epoch 1/1: ft.teacher=")
    assert pretrain_at < log.index("Epoch [1][1/")  # before the student's first iteration
    state = _load(tmp_path / "epoch_1.pth")["state_dict"]
    assert any(k.startswith("distiller.heads.0.tea_connector.") for k in state)
    assert any(k.startswith("distiller.heads.0.stu_connector.") for k in state)


def test_wrong_module_name_exits_2_with_the_key_path(tmp_path, teacher_ckpt, mm):
    proc = mm.run_tool("train.py", KD, "--work-dir", str(tmp_path), "--cfg-options", *TINY,
                       *teacher_options(teacher_ckpt),
                       "algorithm.distiller.distill_cfg.distill_head_cfg.0.student_module=backbone.layer44",
                       check=False)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "algorithm.distiller.distill_cfg.distill_head_cfg[0].student_module" in proc.stderr
    assert "backbone.layer4" in proc.stderr and "Traceback" not in proc.stderr


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.parametrize("config", [KD, FT])
def test_dist_train_two_processes_gloo(config, tmp_path, teacher_ckpt, mm):
    """Logits KD, and Factor Transfer (paraphraser pretrained on each rank, then broadcast from rank 0)."""
    extra = [FT_TEACHER_WIDTH] if config == FT else []
    env = mm.child_env(PYTHON=sys.executable, PORT=str(_free_port()))
    command = ["bash", os.path.join(mm.ROOT, "tools", "dist_train.sh"), os.path.join(mm.ROOT, config), "2",
               "--work-dir", str(tmp_path), "--seed", "0", "--cfg-options", *TINY, "data.samples_per_gpu=16",
               *teacher_options(teacher_ckpt), *extra]
    proc = subprocess.run(command, cwd=mm.ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert "Distributed training: True" in proc.stderr
    ckpt = _load(tmp_path / "epoch_1.pth")
    assert ckpt["meta"]["iter"] == 3  # 96 samples, 2 ranks x 16
    assert all(k.startswith(("model.", "distiller.heads.")) for k in ckpt["state_dict"])
    assert (tmp_path / "student_latest.pth").exists()
    if config == FT:
        assert "connector pretraining epoch 1/1" in proc.stderr + proc.stdout


@pytest.mark.slow
def test_search_run_tunes_temperature_and_weight(tmp_path, teacher_ckpt, mm):
    project = mm.search_project(tmp_path)
    config = yaml.safe_load((project / "configs" / "search" / "distill_digits_kd.yaml").read_text())
    template = config["task"]["template"]
    assert "{tau}" in template and "{kd_weight}" in template
    config["task"]["template"] = (template.replace("runner.max_epochs=10", "") + " " + " ".join(TINY) + " "
                                  + " ".join(teacher_options(teacher_ckpt)))
    jobs = mm.run_search(project, config, "kd")["jobs"]
    assert [job["status"] for job in jobs] == ["SUCCEEDED", "SUCCEEDED"]
    seen = set()
    for job in jobs:
        job_dir = os.path.dirname(job["log_path"])
        meta_config = _load(os.path.join(job_dir, "work", "epoch_1.pth"))["meta"]["config"].replace(" ", "")
        tau, weight = job["params"]["tau"], job["params"]["kd_weight"]
        assert f"tau={tau!r}" in meta_config and f"loss_weight={weight!r}" in meta_config
        assert 0.0 <= job["reward"] <= 100.0 and "loss_kd" in job["scalars"]
        seen.add((tau, weight))
    assert len(seen) == 2
