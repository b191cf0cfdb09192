"""configs/search/qat_digits.yaml under the real engine: search-run launches QAT fine-tunings (tools/train.py,
--load-from a float checkpoint) that differ in learning rate and number of epochs; each reports its fake-quant
accuracy and leaves a fake-quant checkpoint, and tools/quantize.py converts the best one to int8."""
import json
import os

import pytest
import torch
import yaml


@pytest.mark.slow
def test_search_run_tunes_qat_epochs_and_lr(tmp_path, mm):
    float_dir = tmp_path / "float"
    mm.run_tool("train.py", os.path.join(mm.CONFIGS, "digits", "resnet18_digits.py"), "--work-dir", str(float_dir),
                "--seed", "0", "--cfg-options", *mm.tiny_options(epochs=1))
    project = mm.search_project(tmp_path)
    config = yaml.safe_load((project / "configs" / "search" / "qat_digits.yaml").read_text())
    template = config["task"]["template"]
    assert "{lr}" in template and "{epochs}" in template and "work_dirs/r18/latest.pth" in template
    # the same search on a tiny budget: the first 2 grid points (1 and 3 epochs at the first lr)
    tiny = [o for o in mm.tiny_options("algorithm.model.") if not o.startswith("runner.")]
    config["task"]["template"] = (template.replace("work_dirs/r18/latest.pth", str(float_dir / "epoch_1.pth"))
                                  + " " + " ".join(tiny))
    shown = mm.run_search(project, config, "qat")
    jobs = shown["jobs"]
    assert [job["status"] for job in jobs] == ["SUCCEEDED", "SUCCEEDED"]
    assert sorted(job["params"]["epochs"] for job in jobs) == [1, 3]
    for job in jobs:
        work = os.path.join(os.path.dirname(job["log_path"]), "work")
        epochs, lr = job["params"]["epochs"], job["params"]["lr"]
        ckpt = torch.load(os.path.join(work, "latest.pth"), map_location="cpu", weights_only=False)
        assert ckpt["meta"]["epoch"] == epochs
        assert f"lr={lr!r}" in ckpt["meta"]["config"].replace(" ", "")
        assert "model.quant_stubs.quant.activation_post_process.scale" in ckpt["state_dict"]
        lines = [json.loads(line) for line in open(os.path.join(os.path.dirname(job["log_path"]), "scalars.jsonl"))]
        assert [line["step"] for line in lines] == list(range(1, epochs + 1))
        assert job["reward"] == pytest.approx(lines[-1]["scalars"]["acc"]) and 0.0 <= job["reward"] <= 100.0

    best = max(jobs, key=lambda job: job["reward"])
    assert shown["task"]["best"]["reward"] == best["reward"]
    work = os.path.join(os.path.dirname(best["log_path"]), "work")
    mm.run_tool("quantize.py", os.path.join(mm.CONFIGS, "quantization", "qat_resnet18_digits.py"),
                os.path.join(work, "latest.pth"), "--out-dir", str(tmp_path / "int8"), "--out",
                str(tmp_path / "quantize.json"), "--cfg-options", *mm.tiny_options("algorithm.model."))
    results = json.loads((tmp_path / "quantize.json").read_text())
    assert abs(results["int8"]["accuracy_top-1"] - results["fake_quant"]["accuracy_top-1"]) <= 3 * 100 / 64


@pytest.mark.slow
def test_search_run_tunes_pt2e_qat(tmp_path, mm):
    """The same search over the PT2E QAT config (gml.PT2EQuantizer: the backbone captured by torch.export in each
    job), from scratch on the tiny budget: one job trains, reports its fake-quant accuracy and leaves a checkpoint
    of the captured graph."""
    pytest.importorskip("torchao")
    project = mm.search_project(tmp_path)
    config = yaml.safe_load((project / "configs" / "search" / "qat_digits.yaml").read_text())
    template = config["task"]["template"]
    tiny = [o for o in mm.tiny_options("algorithm.model.") if not o.startswith("runner.")]
    config["task"]["template"] = (template.replace("qat_resnet18_digits.py", "qat_pt2e_resnet18_digits.py")
                                  .replace("--load-from work_dirs/r18/latest.pth", "") + " " + " ".join(tiny))
    assert "qat_pt2e_resnet18_digits.py" in config["task"]["template"]
    shown = mm.run_search(project, config, "qat_pt2e", max_tries=1)
    [job] = shown["jobs"]
    assert job["status"] == "SUCCEEDED" and job["params"]["epochs"] == 1
    work = os.path.join(os.path.dirname(job["log_path"]), "work")
    ckpt = torch.load(os.path.join(work, "latest.pth"), map_location="cpu", weights_only=False)
    assert ckpt["meta"]["epoch"] == 1 and "PT2EQuantizer" in ckpt["meta"]["config"]
    assert any(key.startswith("model.backbone.graph.") for key in ckpt["state_dict"])
    lines = [json.loads(line) for line in open(os.path.join(os.path.dirname(job["log_path"]), "scalars.jsonl"))]
    assert job["reward"] == pytest.approx(lines[-1]["scalars"]["acc"]) and 0.0 <= job["reward"] <= 100.0
