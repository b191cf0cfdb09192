"""GmlReportHook in a real mmcv run (in-process): iteration-based reporting, and silence outside a search."""
import json

import pytest
from mmcv import Config

from gml.models import build_model
from gml.models.datasets import DigitsDataset
from gml.models.training import add_report_hook, train_model

PIPELINE = [dict(type="Normalize", mean=[77.8] * 3, std=[82.4] * 3, to_rgb=False),
            dict(type="ImageToTensor", keys=["img"]), dict(type="ToTensor", keys=["gt_label"]),
            dict(type="Collect", keys=["img", "gt_label"])]
TEST_PIPELINE = PIPELINE[:2] + [dict(type="Collect", keys=["img"])]
MODEL = dict(type="ImageClassifier", backbone=dict(type="ResNet_CIFAR", depth=18, base_channels=8, stem_channels=8),
             neck=dict(type="GlobalAveragePooling"), head=dict(type="LinearClsHead", num_classes=10, in_channels=64,
                                                               topk=(1, 5)))


def _cfg(work_dir, report_hook):
    hooks = [dict(type="TextLoggerHook")] + ([dict(type="gml.GmlReportHook", by_epoch=False)] if report_hook else [])
    return Config(dict(
        model=MODEL, work_dir=str(work_dir), seed=0, device="cpu", workflow=[("train", 1)],
        data=dict(samples_per_gpu=16, workers_per_gpu=0, pin_memory=False,
                  train=dict(type="gml.DigitsDataset", split="train", max_samples=64, pipeline=PIPELINE),
                  val=dict(type="gml.DigitsDataset", split="val", max_samples=32, pipeline=TEST_PIPELINE)),
        optimizer=dict(type="SGD", lr=0.05, momentum=0.9), optimizer_config=dict(grad_clip=None),
        lr_config=dict(policy="fixed"), runner=dict(type="IterBasedRunner", max_iters=4),
        checkpoint_config=None, evaluation=dict(interval=4, metric="accuracy"),
        log_config=dict(interval=2, hooks=hooks)))


def _train(cfg):
    train_model(build_model(cfg.model), [DigitsDataset(split="train", max_samples=64, pipeline=PIPELINE)], cfg)


def test_iteration_based_reports(tmp_path, monkeypatch):
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    monkeypatch.setenv("GML_JOB_DIR", str(job_dir))
    cfg = _cfg(tmp_path / "work", report_hook=True)
    assert not add_report_hook(cfg)  # the config names one already
    _train(cfg)
    by_step = {}
    for line in (job_dir / "scalars.jsonl").read_text().splitlines():
        row = json.loads(line)
        assert not set(row["scalars"]) & set(by_step.get(row["step"], {})), "a scalar reported twice for a step"
        by_step.setdefault(row["step"], {}).update(row["scalars"])
    assert sorted(by_step) == [2, 4]
    assert set(by_step[2]) == {"loss", "lr"}
    assert {"loss", "lr", "accuracy_top-1", "accuracy_top-5", "acc"} == set(by_step[4])
    assert by_step[4]["acc"] == by_step[4]["accuracy_top-1"] and by_step[4]["lr"] == pytest.approx(0.05)


def test_added_in_a_search_only(monkeypatch, tmp_path):
    monkeypatch.delenv("GML_JOB_DIR", raising=False)
    cfg = _cfg(tmp_path, report_hook=False)
    assert not add_report_hook(cfg) and len(cfg.log_config.hooks) == 1
    monkeypatch.setenv("GML_JOB_DIR", str(tmp_path))
    assert add_report_hook(cfg) and cfg.log_config.hooks[-1]["type"] == "gml.GmlReportHook"
    assert not add_report_hook(cfg)


def test_silent_outside_a_search(tmp_path, monkeypatch):
    monkeypatch.delenv("GML_JOB_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    _train(_cfg(tmp_path / "work", report_hook=True))
    assert not list(tmp_path.rglob("scalars.jsonl"))
