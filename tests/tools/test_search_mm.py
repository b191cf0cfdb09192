"""configs/search/mm_digits_resnet18.yaml under the real engine: search-run launches tools/train.py jobs whose
GmlReportHook reports into the task's store; search-ctl shows their rewards."""
import json
import os

import pytest
import torch
import yaml

TINY = ("data.train.max_samples=96 data.val.max_samples=64 data.samples_per_gpu=32 log_config.interval=1 "
        "lr_config.warmup_iters=2")


@pytest.mark.slow
def test_search_run_on_the_mm_search_config(tmp_path, mm):
    project = mm.search_project(tmp_path)
    config = yaml.safe_load((project / "configs" / "search" / "mm_digits_resnet18.yaml").read_text())
    # Same search, tiny budget: the first 2 grid points (both widths), 1 epoch on small subsets.
    template = config["task"]["template"]
    assert "runner.max_epochs=3" in template and template.rstrip().split()[-1].startswith("runner.")
    config["task"]["template"] = template.replace("runner.max_epochs=3", "runner.max_epochs=1") + " " + TINY
    shown = mm.run_search(project, config, "mm")
    jobs = shown["jobs"]
    assert [job["status"] for job in jobs] == ["SUCCEEDED", "SUCCEEDED"]
    widths = []
    for job in jobs:
        job_dir = os.path.dirname(job["log_path"])
        lines = [json.loads(line) for line in open(os.path.join(job_dir, "scalars.jsonl"))]
        assert [line["step"] for line in lines] == [1]
        assert job["reward"] == pytest.approx(lines[-1]["scalars"]["acc"])
        assert 0.0 <= job["reward"] <= 100.0
        assert set(job["scalars"]) >= {"acc", "loss"}
        # The File arg set the width inside the job's config copy; --cfg-options set lr and weight decay.
        ckpt = torch.load(os.path.join(job_dir, "work", "epoch_1.pth"), map_location="cpu", weights_only=False)
        widths.append(ckpt["state_dict"]["backbone.conv1.weight"].shape[0])
        assert job["params"]["config(model.backbone.base_channels)"] == widths[-1]
        assert f"lr={job['params']['lr']!r}" in ckpt["meta"]["config"].replace(" ", "")
    assert widths == [16, 32]
    assert shown["task"]["best"]["reward"] == max(job["reward"] for job in jobs)
