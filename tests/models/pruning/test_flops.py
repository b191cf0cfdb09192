"""Expected FLOPs (MFLOPs) against gml's FLOPs counter, and the FLOPs losses with their dead zone."""
import pytest

torch = pytest.importorskip("torch")

from gml.models.evaluation import NaiveEvaluator  # noqa: E402
from gml.models.pruning.flops import DEAD_ZONE, FlopsLossType, flops_loss  # noqa: E402

from ._fixtures import BOTTLENECK_RESNET, INPUT_SHAPE, MOBILENET_V2, RESNET, build_dmcp  # noqa: E402

COUNTER = NaiveEvaluator(units="M", default_shape=(1,) + INPUT_SHAPE)


@pytest.mark.parametrize("model,width_max", [(RESNET, 1.0), (RESNET, 1.5), (BOTTLENECK_RESNET, 1.0),
                                             (MOBILENET_V2, 1.0), (MOBILENET_V2, 1.5)])
def test_expected_flops_equals_the_counter_at_max_and_min(model, width_max):
    algorithm = build_dmcp(model, width=dict(max=width_max, min=0.1, offset=0.1))
    mutator = algorithm.mutator
    # alpha = 0: every bucket kept with probability 1, the expected network is the max one
    mutator.set_max()
    assert float(mutator.expected_flops().detach()) == pytest.approx(COUNTER.complexity(algorithm)["flops"], rel=0.01)
    # large alphas: every bucket pruned, the expected network is the min one
    with torch.no_grad():
        for alpha in mutator.alphas:
            alpha.fill_(60.0)
    mutator.set_min()
    assert float(mutator.expected_flops().detach()) == pytest.approx(COUNTER.complexity(algorithm)["flops"], rel=0.01)
    # any structure: the integer-width formula is the counter
    for _ in range(3):
        choice = mutator.non_uniform_random_choice()
        mutator.set_choice(choice)
        assert mutator.flops_of(choice) == pytest.approx(COUNTER.complexity(algorithm)["flops"], rel=1e-9)


def test_supernet_wider_than_the_model_costs_more():
    narrow, wide = build_dmcp(RESNET), build_dmcp(RESNET, width=dict(max=1.5, min=0.1, offset=0.1))
    assert wide.mutator.flops_of(wide.mutator.max_choice()) > 2 * narrow.mutator.flops_of(
        narrow.mutator.max_choice())
    assert max(wide.mutator.max_choice().values()) == 48  # stage 2 of base 16: 32 channels, 1.5x


@pytest.mark.parametrize("kind", list(FlopsLossType))
def test_each_flops_loss_is_zero_in_the_dead_zone_and_pulls_towards_it(kind):
    target = 100.0
    for inside in (target * (1 - DEAD_ZONE), target * (1 - DEAD_ZONE / 2), target):
        expected = torch.tensor(inside, requires_grad=True)
        loss = flops_loss(expected, target, kind, weight=0.5)
        loss.backward()
        assert float(loss.detach()) == 0.0 and float(expected.grad) == 0.0
    for outside, sign in ((target * 1.3, 1.0), (target * 0.5, -1.0), (target + 500, 1.0)):
        expected = torch.tensor(outside, requires_grad=True)
        loss = flops_loss(expected, target, kind, weight=0.5)
        loss.backward()
        assert float(loss.detach()) > 0
        assert torch.sign(expected.grad) == sign  # gradient descent moves expected towards the zone


def test_the_architecture_step_computes_the_flops_loss_in_mflops():
    """One unit: with the target at the supernet's own MFLOPs the expected FLOPs (alpha = 0: the max network) are
    inside the dead zone, so the FLOPs loss is exactly 0. Comparing MFLOPs with raw FLOPs would put them 10^6
    apart and the loss far from 0."""
    probe = build_dmcp(RESNET)
    full = probe.mutator.flops_of(probe.mutator.max_choice())
    algorithm = build_dmcp(RESNET, target=full)
    optimizers = algorithm.build_optimizers(dict(type="SGD", lr=0.01))
    img, label = torch.randn(4, *INPUT_SHAPE), torch.tensor([0, 1, 2, 3])
    log_vars = algorithm._arch_step(img, label, optimizers["architecture"])
    assert log_vars["arch.expected_mflops"] == pytest.approx(full, rel=1e-6)
    assert log_vars["arch.flops_loss"] == 0.0
    below = build_dmcp(RESNET, target=full / 2)
    log_vars = below._arch_step(img, label, below.build_optimizers(dict(type="SGD", lr=0.01))["architecture"])
    assert log_vars["arch.flops_loss"] == pytest.approx(full - full / 2, rel=1e-6)  # l1, weight 1, in MFLOPs


def test_architecture_step_moves_the_expected_flops_towards_the_target():
    probe = build_dmcp(RESNET)
    full = probe.mutator.flops_of(probe.mutator.max_choice())
    algorithm = build_dmcp(RESNET, target=full * 0.5)
    optimizer = algorithm.build_optimizers(dict(type="SGD", lr=0.01))["architecture"]
    img, label = torch.randn(8, *INPUT_SHAPE), torch.arange(8)
    weights = {k: v.clone() for k, v in algorithm.model.state_dict().items()}
    first = float(algorithm.mutator.expected_flops().detach())
    for _ in range(5):
        algorithm._arch_step(img, label, optimizer)
    assert float(algorithm.mutator.expected_flops().detach()) < first
    # only the architecture moved: weights and BatchNorm statistics are as they were
    for key, value in algorithm.model.state_dict().items():
        assert torch.equal(value, weights[key]), key
