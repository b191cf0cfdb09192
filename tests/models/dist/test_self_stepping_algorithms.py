"""Algorithms that back-propagate several times per iteration and step their optimizers themselves (gml.DMCP,
gml.BigNAS) under tools/dist_train.sh: 2 real processes (gloo on CPU), each on its own half of every batch. After
training, every parameter (weights, and DMCP's architecture parameters) must be identical on both ranks: the
gradients of all the backward passes of a step are averaged across processes before each optimizer step.
RankProbeHook (gml_rank_probe.py) saves each rank's parameters."""
import json
import re

import pytest
import torch

pytestmark = pytest.mark.slow

DMCP = "configs/pruning/dmcp/dmcp_resnet_digits16.py"
BIGNAS = "configs/nas/bignas/bignas_resnet_digits.py"
# 96 training images, 2 ranks x 16 per batch: 3 iterations per epoch on each rank
DATA = ["data.train.max_samples=96", "data.val.max_samples=64", "data.test.max_samples=64",
        "data.samples_per_gpu=16", "log_config.interval=1", "lr_config.warmup_iters=2"]
# 2 epochs = 6 iterations: weight steps throughout, architecture steps from iteration 1, distillation from 2
DMCP_TINY = DATA + ["runner.max_epochs=2", "checkpoint_config.interval=1", "evaluation.interval=2",
                    "search_eval_cfg.interval=2", "algorithm.algorithm_cfg.arch_start_train=1",
                    "algorithm.distill_iter=2"]


def _assert_identical(probe, rank0, rank1):
    differ = probe.differing(rank0, rank1)
    assert not differ, f"{len(differ)} of {len(rank0)} parameters differ across ranks, e.g. {differ[:4]}"


def test_dmcp_weights_and_architecture_stay_identical_across_ranks(tmp_path, dist_train, rank_probe):
    work = tmp_path / "work"
    proc = dist_train(DMCP, work, *DMCP_TINY)
    assert "Distributed training: True" in proc.stderr
    rank0, rank1 = rank_probe.rank_params(work)
    alphas = [name for name in rank0 if name.startswith("mutator.alphas.")]
    assert alphas and len(alphas) < len(rank0)
    _assert_identical(rank_probe, rank0, rank1)
    # the architecture really trained (alphas start at zero), and so did the weights
    assert all(rank0[name].abs().max() > 0 for name in alphas)
    ckpt = torch.load(work / "epoch_2.pth", map_location="cpu", weights_only=False)
    assert ckpt["meta"]["iter"] == 6 and int(ckpt["state_dict"]["iteration"]) == 6
    epoch1 = torch.load(work / "epoch_1.pth", map_location="cpu", weights_only=False)["state_dict"]
    assert not torch.equal(epoch1["model.backbone.conv1.weight"], rank0["model.backbone.conv1.weight"])
    # both optimizers stepped: 5 architecture steps (iterations 1..5) in the log, with in-place distillation
    rows = [json.loads(line) for line in open(next(work.glob("*.log.json")))]
    train = [row for row in rows if row.get("mode") == "train"]
    assert len(train) == 6 and sum("arch.task_loss" in row for row in train) == 5
    # the structure export ran once, on rank 0, and the supernet evaluation gathered both ranks' predictions
    assert (work / "structure_writers.txt").read_text() == "0\n"
    assert (work / "model_sample" / "expected.yaml").exists()
    assert re.search(r"subnets: max: top-1 [\d.]+.*; min: top-1 [\d.]+.*; expected: top-1 [\d.]+", proc.stderr)


def test_bignas_sandwich_stays_identical_across_ranks(tmp_path, dist_train, rank_probe):
    work = tmp_path / "work"
    proc = dist_train(BIGNAS, work, *DATA, "runner.max_epochs=1", "search_eval_cfg.interval=1")
    assert "Distributed training: True" in proc.stderr
    _assert_identical(rank_probe, *rank_probe.rank_params(work))
    assert "subnets: max: top-1" in proc.stderr
