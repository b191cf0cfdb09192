"""Mutator, searchable models, the sandwich step, FLOPs hand counts and subnet export."""
import copy
import random

import pytest
import torch
import yaml
from mmcv import Config

from gml.errors import GmlConfigError
from gml.models.evaluation import NaiveEvaluator
from gml.models.ops import BatchNorm2dSlice, Conv2dSlice

from ._fixtures import MBV3_MODEL, RESNET_MODEL, bignas


def _perturb_bn(model):
    torch.manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)


def test_mutator_samples_sets_and_dumps_choices(tmp_path):
    alg = bignas(mutator=dict(type="gml.StateslessMutator", seed=0))
    mutator = alg.mutator
    assert list(mutator.searchables) == ["backbone", "resize_process"]
    assert mutator.max_choice()["backbone"]["MB_out_channels"] == [16, 16, 24, 48]
    assert mutator.min_choice()["resize_process"] == {"resolution": 12}
    mutator.set_min()
    assert mutator.current_choice() == mutator.min_choice()
    assert alg.model.backbone.feat_dim == 32
    choice = mutator.set_random()
    path = mutator.dump(str(tmp_path / "subnet.yaml"))
    assert mutator.load(path) == choice == yaml.safe_load(open(path))
    mutator.set_max()
    mutator.set_choice(mutator.load(path))
    assert mutator.current_choice() == choice
    bad = copy.deepcopy(choice)
    bad["backbone"]["MB_kernel_size"][1] = 7
    with pytest.raises(GmlConfigError, match=r"mutable_cfg\.backbone\.MB_kernel_size\[1\]: 7 is not one of"):
        mutator.set_choice(bad)
    assert mutator.current_choice() == choice  # a bad choice changes nothing


def test_strategy_spellings_and_errors():
    from gml.models.algorithms.bignas import parse_strategy

    assert parse_strategy("sandwich4") == parse_strategy("sandwish4") == parse_strategy("sandwish") == 4
    assert parse_strategy("sandwich6") == 6
    for bad in ("sandwich1", "random", 4):
        with pytest.raises(GmlConfigError, match="algorithm.strategy"):
            parse_strategy(bad)


def test_sandwich_step_accumulates_every_subnet_and_steps_once():
    torch.manual_seed(0)
    alg = bignas(strategy="sandwich4", mutator=dict(type="gml.StatelessMutator", seed=3))
    reference = copy.deepcopy(alg)
    img, label = torch.randn(6, 3, 16, 16), torch.randint(0, 10, (6,))
    # Expected gradients: max (hard labels), two random subnets and min (soft labels of max), summed.
    rng_state = alg.mutator.rng.getstate()
    reference.mutator.rng.setstate(rng_state)
    reference.zero_grad()
    soft = None
    for kind in ("max", "random", "random", "min"):
        getattr(reference.mutator, f"set_{kind}")()
        losses, score = reference.model.losses_and_score(img, label, soft_target=None if kind == "max" else soft)
        losses["loss"].backward()
        if kind == "max":
            soft = torch.softmax(score.detach(), dim=1)
    expected = {n: p.grad.clone() for n, p in reference.named_parameters() if p.grad is not None}

    before = {n: p.detach().clone() for n, p in alg.named_parameters()}
    optimizer = torch.optim.SGD(alg.parameters(), lr=0.5)
    steps = []
    original_step = optimizer.step
    optimizer.step = lambda *a, **k: (steps.append(1), original_step(*a, **k))[1]
    out = alg.train_step(dict(img=img, gt_label=label), optimizer)
    assert len(steps) == 1
    assert set(out["log_vars"]) >= {"max.loss", "random0.loss", "random1.loss", "min.loss", "loss"}
    assert "loss" not in out  # the algorithm stepped; no OptimizerHook may step again
    for name, param in alg.named_parameters():
        grad = expected.get(name)
        if grad is None:
            assert torch.equal(param, before[name]), name
            continue
        assert torch.equal(param.grad, grad), name  # the subnets' blocks accumulate autograd's exact sums
        torch.testing.assert_close(param.detach(), before[name] - 0.5 * grad, rtol=1e-4, atol=1e-6)
    # the min subnet touches only a slice of the widest conv: rows beyond max width stay untouched by min, but
    # every weight used by max moved
    assert alg.mutator.current_choice() == alg.mutator.max_choice()


def test_drop_regularisation_applies_to_max_only(monkeypatch):
    alg = bignas(drop_ratio=0.3, drop_path_ratio=0.2)
    seen = []
    original = alg.model.losses_and_score

    def spy(img, label, soft_target=None):
        drops = [m.drop_prob for m in alg.model.modules() if type(m).__name__ == "DropPath"]
        seen.append((alg.model.head.dropout.p, max(drops)))
        return original(img, label, soft_target)

    monkeypatch.setattr(alg.model, "losses_and_score", spy)
    alg.train_step(dict(img=torch.randn(4, 3, 16, 16), gt_label=torch.randint(0, 10, (4,))),
                   torch.optim.SGD(alg.parameters(), lr=0.1))
    assert seen[0] == (0.3, pytest.approx(0.2)) and all(s == (0.0, 0.0) for s in seen[1:])
    assert alg.model.head.dropout.p == 0.0


def test_resnet_flops_and_params_match_hand_count():
    alg = bignas(RESNET_MODEL)
    evaluator = NaiveEvaluator(units=None, default_shape=(1, 3, 8, 8))
    hw1, hw2 = 64, 16  # stage 1 at 8x8, stage 2 at 4x4

    def hand(stem, w1, w2, d1, d2):
        flops = hw1 * stem * 27                                      # stem 3x3
        flops += hw1 * (w1 * stem * 9 + w1 * w1 * 9 + w1 * stem)     # stage 1, block 1 (+1x1 shortcut)
        flops += (d1 - 1) * hw1 * 2 * w1 * w1 * 9
        flops += hw2 * (w2 * w1 * 9 + w2 * w2 * 9 + w2 * w1)         # stage 2, block 1
        flops += (d2 - 1) * hw2 * 2 * w2 * w2 * 9
        flops += w2 * 10                                              # fc
        params = stem * 27 + 2 * stem
        params += w1 * stem * 9 + w1 * w1 * 9 + w1 * stem + 3 * 2 * w1 + (d1 - 1) * 2 * (w1 * w1 * 9 + 2 * w1)
        params += w2 * w1 * 9 + w2 * w2 * 9 + w2 * w1 + 3 * 2 * w2 + (d2 - 1) * 2 * (w2 * w2 * 9 + 2 * w2)
        params += w2 * 10 + 10
        return dict(flops=float(flops), params=float(params))

    alg.mutator.set_max()
    assert evaluator.complexity(alg) == hand(8, 8, 16, 2, 2)
    alg.mutator.set_min()
    assert evaluator.complexity(alg) == hand(4, 4, 8, 1, 1)


@pytest.mark.parametrize("model", [MBV3_MODEL, RESNET_MODEL], ids=["mobilenetv3", "resnet"])
def test_export_round_trip_builds_plain_mmcls_model_with_equal_outputs(model, tmp_path):
    from mmcls.models import build_classifier
    from mmcv.runner import load_checkpoint

    from gml.models.subnet import export_subnet

    alg = bignas(model, mutator=dict(type="gml.StatelessMutator", seed=5))
    _perturb_bn(alg)
    alg.eval()
    for _ in range(3):
        choice = alg.mutator.random_choice()
        alg.mutator.set_choice(choice)
        img = torch.randn(4, 3, 16, 16)
        resolution = choice.get("resize_process", {}).get("resolution", 16)
        expected = alg(img, return_loss=False)
        cfg = Config(dict(algorithm=dict(type="gml.BigNAS", model=copy.deepcopy(model)), data=dict()))
        plain_cfg, state = export_subnet(cfg, alg, choice, input_size=16)
        assert plain_cfg.model.type == "mmcls.ImageClassifier"
        assert plain_cfg.model.head.type == "mmcls.LinearClsHead"
        assert "algorithm" not in plain_cfg and plain_cfg.custom_imports.imports == ["gml.models"]
        path = str(tmp_path / "subnet.pth")
        torch.save(dict(state_dict=state), path)
        plain = build_classifier(plain_cfg.model)   # mmcls's own builder
        load_checkpoint(plain, path, strict=True)
        plain.eval()
        assert not any(isinstance(m, (Conv2dSlice, BatchNorm2dSlice)) for m in plain.modules())
        # the plain model takes the image at the subnet's resolution (its pipeline resizes)
        resized = torch.nn.functional.interpolate(img, size=(resolution, resolution), mode="bilinear",
                                                  align_corners=False) if resolution != 16 else img
        got = plain(resized, return_loss=False)
        for a, b in zip(expected, got):
            assert a == pytest.approx(b, abs=1e-5)
        assert sum(p.numel() for p in plain.parameters()) == NaiveEvaluator(units=None, default_shape=(
            1, 3, 16, 16)).complexity(alg)["params"]


def test_mutable_cfg_fixes_the_subnet_for_training_and_testing(tmp_path):
    probe = bignas(mutator=dict(type="gml.StatelessMutator", seed=7))
    choice = probe.mutator.random_choice()
    path = probe.mutator.dump(str(tmp_path / "subnet.yaml"), choice)
    alg = bignas(mutable_cfg=path, drop_ratio=0.1)
    assert alg.mutator.current_choice() == choice
    out = alg.train_step(dict(img=torch.randn(4, 3, 16, 16), gt_label=torch.randint(0, 10, (4,))),
                         torch.optim.SGD(alg.parameters(), lr=0.1))
    assert [k for k in out["log_vars"] if k.endswith(".loss")] == ["fixed.loss"]
    assert alg.mutator.current_choice() == choice
    bad = dict(choice, backbone=dict(choice["backbone"], MB_out_channels=[16, 16, 24, 40]))
    with pytest.raises(GmlConfigError, match=r"algorithm\.mutable_cfg\.backbone\.MB_out_channels\[3\]"):
        bignas(mutable_cfg=bad)


def test_sandwich_step_logs_every_subnet_loss_read_from_the_device_once():
    from torch.profiler import profile

    torch.manual_seed(0)
    alg = bignas(strategy="sandwich4", mutator=dict(type="gml.StatelessMutator", seed=3), grad_clip=dict(max_norm=5))
    reference = copy.deepcopy(alg)
    img, label = torch.randn(4, 3, 16, 16), torch.randint(0, 10, (4,))
    reference.mutator.rng.setstate(alg.mutator.rng.getstate())
    expected, soft = {}, None
    for name, kind in (("max", "max"), ("random0", "random"), ("random1", "random"), ("min", "min")):
        getattr(reference.mutator, f"set_{kind}")()
        reference.set_regularization(kind == "max")
        losses, score = reference.model.losses_and_score(img, label, soft_target=None if kind == "max" else soft)
        losses["loss"].backward()
        expected[f"{name}.loss"] = float(losses["loss"].detach())
        if kind == "max":
            soft = torch.softmax(score.detach(), dim=1)
    grad_norm = float(torch.nn.utils.clip_grad_norm_([p for p in reference.parameters() if p.grad is not None], 5))
    optimizer = torch.optim.SGD(alg.parameters(), lr=0.1)
    with profile() as prof:
        log_vars = alg.train_step(dict(img=img, gt_label=label), optimizer)["log_vars"]
    # no per-value .item()/float() within the step: one stacked read after the optimizer step
    assert not [e for e in prof.key_averages() if e.key == "aten::_local_scalar_dense"]
    assert list(log_vars) == [*expected, "grad_norm", "loss"]
    assert {k: log_vars[k] for k in expected} == expected
    assert log_vars["grad_norm"] == grad_norm
    assert log_vars["loss"] == sum(expected.values(), 0.0)
