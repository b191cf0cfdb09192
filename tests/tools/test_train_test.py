"""tools/train.py and tools/test.py end to end: real mmcls training on real digits, as child processes."""
import json
import os

import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
R18 = os.path.join(ROOT, "configs", "digits", "resnet18_digits.py")
R18_ALGO = os.path.join(ROOT, "configs", "digits", "resnet18_digits_algorithm.py")


def _load(path):
    return torch.load(path, map_location="cpu", weights_only=False)  # our own files, written by this test


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory, mm):
    work = tmp_path_factory.mktemp("one_epoch")
    proc = mm.run_tool("train.py", R18, "--work-dir", str(work), "--seed", "0",
                       "--cfg-options", *mm.tiny_options(epochs=1))
    return work, proc


@pytest.fixture(scope="module")
def two_epochs_in_search(tmp_path_factory, mm):
    """Two epochs straight through, as a job of a gml search (GML_JOB_DIR set)."""
    work = tmp_path_factory.mktemp("two_epochs")
    job_dir = tmp_path_factory.mktemp("job")
    mm.run_tool("train.py", R18, "--work-dir", str(work), "--seed", "0", "--cfg-options", *mm.tiny_options(epochs=2),
                env=mm.child_env(GML_JOB_DIR=str(job_dir), GML_TASK="t", GML_JOB_ID="0"))
    return work, job_dir


def test_train_one_epoch_plain_model(one_epoch, mm):
    work, proc = one_epoch
    ckpt = _load(work / "epoch_1.pth")
    assert ckpt["meta"]["epoch"] == 1 and ckpt["meta"]["CLASSES"] == tuple(str(i) for i in range(10))
    assert any(k.startswith("backbone.") for k in ckpt["state_dict"])
    (row,) = mm.val_log(work)
    assert 0.0 <= row["accuracy_top-1"] <= 100.0 and row["accuracy_top-5"] >= row["accuracy_top-1"]
    assert "GmlReportHook" not in proc.stdout + proc.stderr  # not in a search: the hook is not added


def test_train_one_epoch_with_algorithm_loading_bare_weights(one_epoch, tmp_path, mm):
    bare_ckpt = one_epoch[0] / "epoch_1.pth"
    proc = mm.run_tool("train.py", R18_ALGO, "--work-dir", str(tmp_path), "--seed", "0", "--load-from", str(bare_ckpt),
                       "--cfg-options", *mm.tiny_options("algorithm.model.", epochs=1))
    ckpt = _load(tmp_path / "epoch_1.pth")
    assert ckpt["state_dict"] and all(k.startswith("model.") for k in ckpt["state_dict"])
    assert "missing keys" not in proc.stderr and "unexpected key" not in proc.stderr
    assert "BaseAlgorithm" in (tmp_path / "resnet18_digits_algorithm.py").read_text()
    assert len(mm.val_log(tmp_path)) == 1


def test_resume_trains_the_same_next_epoch(one_epoch, two_epochs_in_search, tmp_path, mm):
    straight, _ = two_epochs_in_search
    mm.run_tool("train.py", R18, "--work-dir", str(tmp_path), "--seed", "0",
                "--resume-from", str(one_epoch[0] / "epoch_1.pth"), "--cfg-options", *mm.tiny_options(epochs=2))
    resumed, reference = _load(tmp_path / "epoch_2.pth"), _load(straight / "epoch_2.pth")
    assert resumed["meta"]["epoch"] == reference["meta"]["epoch"] == 2
    assert resumed["meta"]["iter"] == reference["meta"]["iter"]
    assert resumed["state_dict"].keys() == reference["state_dict"].keys()
    for key, value in reference["state_dict"].items():
        assert torch.allclose(resumed["state_dict"][key].float(), value.float(), atol=1e-6), key
    momenta = [s["momentum_buffer"] for s in resumed["optimizer"]["state"].values()]
    ref_momenta = [s["momentum_buffer"] for s in reference["optimizer"]["state"].values()]
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(momenta, ref_momenta))
    assert mm.val_log(tmp_path)[-1]["accuracy_top-1"] == mm.val_log(straight)[-1]["accuracy_top-1"]


def test_test_py_reproduces_val_accuracy(one_epoch, tmp_path, mm):
    work, _ = one_epoch
    out = tmp_path / "metrics.json"
    proc = mm.run_tool("test.py", R18, str(work / "epoch_1.pth"), "--out", str(out), "--out-items", "pred_label",
                       "--cfg-options", *mm.tiny_options(epochs=1))
    logged = mm.val_log(work)[-1]
    metrics = json.loads(out.read_text())["metrics"]
    assert metrics["accuracy_top-1"] == pytest.approx(logged["accuracy_top-1"], abs=1e-3)
    assert metrics["accuracy_top-5"] == pytest.approx(logged["accuracy_top-5"], abs=1e-3)
    assert f"accuracy_top-1: {metrics['accuracy_top-1']:.4f}" in proc.stdout
    assert len(json.loads(out.read_text())["pred_label"]) == 64


def test_report_hook_writes_scalars_in_a_search(two_epochs_in_search, mm):
    work, job_dir = two_epochs_in_search
    lines = [json.loads(line) for line in (job_dir / "scalars.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [1, 2]
    logged = mm.val_log(work)
    for line, row in zip(lines, logged):
        scalars = line["scalars"]
        assert {"loss", "lr", "accuracy_top-1", "accuracy_top-5", "acc"} <= set(scalars)
        assert scalars["acc"] == scalars["accuracy_top-1"] == pytest.approx(row["accuracy_top-1"], abs=1e-3)
        assert scalars["loss"] > 0


def test_missing_model_is_a_config_error(tmp_path, mm):
    cfg = tmp_path / "empty.py"
    cfg.write_text("data = dict()\n")
    proc = mm.run_tool("train.py", str(cfg), "--work-dir", str(tmp_path / "w"), check=False)
    assert proc.returncode == 2 and "neither an 'algorithm' nor a 'model'" in proc.stderr
