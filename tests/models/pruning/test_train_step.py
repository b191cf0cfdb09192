"""DMCP's training iteration in process: the weight step over the sampling plan (one optimizer step, in-place
distillation after distill_iter), the architecture step from arch_start_train, a supernet wider than the model."""
import pytest

torch = pytest.importorskip("torch")

from gml.errors import GmlConfigError  # noqa: E402

from ._fixtures import INPUT_SHAPE, MOBILENET_V2, MOBILENET_V2_SLICE, RESNET, build_dmcp  # noqa: E402


class CountingSGD(torch.optim.SGD):
    steps = 0

    def step(self, closure=None):
        type(self).steps += 1
        return super().step(closure)


def _data(n=8):
    torch.manual_seed(0)
    return dict(img=torch.randn(n, *INPUT_SHAPE), gt_label=torch.arange(n) % 10)


@pytest.mark.parametrize("model,width_max", [(RESNET, 1.0), (MOBILENET_V2, 1.5), (MOBILENET_V2_SLICE, 1.5)])
def test_iterations_step_weights_once_and_the_architecture_from_its_start(model, width_max):
    algorithm = build_dmcp(model, width=dict(max=width_max, min=0.1, offset=0.1),
                           algorithm_cfg=dict(arch_start_train=1, arch_train_freq=2), distill_iter=1).train()
    optimizers = algorithm.build_optimizers(dict(type="SGD", lr=0.05, momentum=0.9))
    weight = optimizers["weight"]
    weight.__class__ = CountingSGD
    CountingSGD.steps = 0
    alphas = [a.detach().clone() for a in algorithm.mutator.alphas]
    before = {k: v.detach().clone() for k, v in algorithm.model.named_parameters()}

    out = algorithm.train_step(_data(), optimizers)  # iteration 0: weights only
    assert CountingSGD.steps == 1
    assert [k.split(".", 1)[1] for k in out["log_vars"] if k.endswith(".loss") and k[0].isdigit()] == [
        t.value + ".loss" for t in algorithm.mutator.plan]
    assert not any(k.startswith("arch.") for k in out["log_vars"])
    assert all(torch.equal(a, b) for a, b in zip(alphas, algorithm.mutator.alphas))
    assert any(not torch.equal(v, before[k]) for k, v in algorithm.model.named_parameters())

    out = algorithm.train_step(_data(), optimizers)  # iteration 1: weights, then the architecture
    assert CountingSGD.steps == 2
    assert {"arch.task_loss", "arch.flops_loss", "arch.expected_mflops"} <= set(out["log_vars"])
    assert any(not torch.equal(a, b) for a, b in zip(alphas, algorithm.mutator.alphas))
    alphas = [a.detach().clone() for a in algorithm.mutator.alphas]

    out = algorithm.train_step(_data(), optimizers)  # iteration 2: arch_train_freq=2 skips the architecture
    assert not any(k.startswith("arch.") for k in out["log_vars"])
    assert all(torch.equal(a, b) for a, b in zip(alphas, algorithm.mutator.alphas))
    assert int(algorithm.iteration) == 3
    assert algorithm.mutator.current_choice() == algorithm.mutator.max_choice()  # left at the max network


def test_non_max_subnets_learn_from_the_max_subnet_after_distill_iter(monkeypatch):
    algorithm = build_dmcp(RESNET, distill_iter=1, mutator=dict(arch_sample_type=["max", "min"]),
                           algorithm_cfg=dict(arch_start_train=5)).train()
    optimizers = algorithm.build_optimizers(dict(type="SGD", lr=0.0))
    task_losses = []
    original = algorithm._task_loss
    monkeypatch.setattr(algorithm, "_task_loss",
                        lambda score, label: task_losses.append(1) or original(score, label))
    algorithm.train_step(_data(), optimizers)  # before distill_iter: both subnets on the labels
    assert len(task_losses) == 2
    task_losses.clear()
    out = algorithm.train_step(_data(), optimizers)  # after: only max on the labels, min on max's softmax
    assert len(task_losses) == 1
    assert out["log_vars"]["1.min.loss"] > 0


def test_a_structure_in_a_supernet_config_is_tested_not_trained():
    """channel_cfg without retraining selects the structure the supernet is tested on; training it is refused."""
    algorithm = build_dmcp()
    structure = algorithm.mutator.min_choice()
    algorithm = build_dmcp(channel_cfg=dict(channels=structure))
    assert algorithm.is_supernet and algorithm.mutator.current_choice() == structure
    img, label = torch.zeros(2, 3, 32, 32), torch.tensor([0, 1])
    with pytest.raises(GmlConfigError, match=r"^algorithm\.channel_cfg: .*retraining=True"):
        algorithm.train_step(dict(img=img, gt_label=label), algorithm.build_optimizers(dict(type="SGD", lr=0.1)))
    retrained = build_dmcp(retraining=True, channel_cfg=dict(channels=structure))
    assert not retrained.is_supernet


@pytest.mark.parametrize("model", [RESNET, MOBILENET_V2_SLICE])
def test_weight_step_gradients_equal_autograds_accumulation_bit_for_bit(model, monkeypatch):
    """Each subnet's cut weights send their gradients straight into their blocks of .grad
    (``gradients_into_slices``): the accumulated gradients are exactly those of autograd's own accumulation."""
    import contextlib
    import copy

    import gml.models.algorithms.dmcp as dmcp_module

    algorithm = build_dmcp(model, width=dict(max=1.5, min=0.1, offset=0.1), distill_iter=0).train()
    reference = copy.deepcopy(algorithm)  # the same weights and the same sampling generator
    data = _data()
    grads = []
    for alg, direct in ((algorithm, True), (reference, False)):
        if not direct:
            monkeypatch.setattr(dmcp_module, "gradients_into_slices", contextlib.nullcontext)
        optimizers = alg.build_optimizers(dict(type="SGD", lr=0.0))
        alg._weight_step(data["img"], data["gt_label"], optimizers["weight"], 3)
        grads.append({name: p.grad for name, p in alg.model.named_parameters() if p.grad is not None})
    ours, theirs = grads
    assert ours.keys() == theirs.keys() and ours
    assert all(torch.equal(ours[name], theirs[name]) for name in theirs)
