"""The architecture pass computes its keep probabilities and expected FLOPs once, for all groups together: the
results equal the per-group formulas (bit for bit where the same float operations run; up to float32 rounding
where the sums run in another order), and the cached constants follow the mutator to another dtype."""
import pytest

torch = pytest.importorskip("torch")

from gml.models.pruning.markov import channel_scale, expected_channels, keep_probs  # noqa: E402

from ._fixtures import BOTTLENECK_RESNET, INPUT_SHAPE, MOBILENET_V2, RESNET, build_dmcp  # noqa: E402


def _random_alphas(mutator, seed=0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for alpha in mutator.alphas:
            alpha.copy_(torch.rand(alpha.shape, generator=generator) * 3 - 0.5)  # some below 0: clamped


def _per_group_flops(mutator):
    """The per-layer, per-group formula the stacked computation replaces."""
    widths = {name: expected_channels(alpha, layout)
              for (name, layout), alpha in zip(mutator.layouts.items(), mutator.alphas)}
    return mutator.flops_model.flops(widths)


@pytest.mark.parametrize("model", [RESNET, BOTTLENECK_RESNET, MOBILENET_V2])
def test_stacked_keep_probabilities_equal_each_group_alone(model):
    mutator = build_dmcp(model).mutator
    _random_alphas(mutator)
    keep = mutator.chains.keep_probs(list(mutator.alphas))
    variable = mutator.chains.variable
    widths = mutator.chains.expected_widths(keep)
    for position, index in enumerate(variable):
        alpha, layout = mutator.alphas[index], list(mutator.layouts.values())[index]
        assert torch.equal(keep.per_group[index], keep_probs(alpha))
        assert torch.equal(widths[position], expected_channels(alpha, layout))
        assert torch.equal(mutator.scale_of(index), channel_scale(alpha, layout))
    assert all(keep.per_group[i] is None for i in range(len(mutator.alphas)) if i not in variable)
    scales = mutator.chains.channel_scales(keep, list(mutator.alphas))  # what an architecture pass uses
    for index, ((name, layout), alpha) in enumerate(zip(mutator.layouts.items(), mutator.alphas)):
        assert torch.equal(scales[index], channel_scale(alpha, layout)), name


@pytest.mark.parametrize("model", [RESNET, BOTTLENECK_RESNET, MOBILENET_V2])
def test_expected_flops_and_gradients_equal_the_per_layer_formula(model):
    mutator = build_dmcp(model).mutator
    _random_alphas(mutator)
    ours = mutator.expected_flops()
    reference = _per_group_flops(mutator)
    assert float(ours.detach()) == pytest.approx(float(reference.detach()), rel=1e-6)
    params = list(mutator.alphas)
    for got, want in zip(torch.autograd.grad(ours, params, allow_unused=True),
                         torch.autograd.grad(reference, params, allow_unused=True)):
        if want is None:
            assert got is None or not got.any()
        else:
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-9)
    # at integer widths the quadratic form is the counter's formula exactly (float64: no rounding at these sizes)
    form = mutator._flops_form
    for choice in (mutator.max_choice(), mutator.min_choice(), mutator.non_uniform_random_choice()):
        widths = torch.tensor([float(choice[name]) for name in form.names], dtype=torch.float64)
        assert float(form(widths)) == mutator.flops_of(choice)


def test_one_computation_serves_the_whole_architecture_pass():
    algorithm = build_dmcp(RESNET)
    mutator = algorithm.mutator
    _random_alphas(mutator)
    outside = mutator.expected_flops()
    with mutator.arch_scaling():
        first = mutator.scale_of(0)
        assert mutator.scale_of(0) is first  # every BatchNorm of the group gets the same tensor
        keep = mutator._keep_probabilities()
        assert mutator._keep_probabilities() is keep
        inside = mutator.expected_flops()
    assert torch.equal(inside, outside)
    assert mutator._keep_probabilities() is not keep  # a new pass (or a call outside one) computes afresh


def test_cached_constants_follow_a_change_of_dtype():
    algorithm = build_dmcp(RESNET)
    optimizers = algorithm.build_optimizers(dict(type="SGD", lr=0.01))
    data = dict(img=torch.randn(4, *INPUT_SHAPE), gt_label=torch.randint(0, 10, (4,)))
    algorithm.train_step(data, optimizers)  # builds the constants in float32
    algorithm.double()
    mutator = algorithm.mutator
    _random_alphas(mutator)
    expected = mutator.expected_flops()
    assert expected.dtype == torch.float64
    assert float(expected.detach()) == pytest.approx(float(_per_group_flops(mutator).detach()), rel=1e-12)
    optimizers = algorithm.build_optimizers(dict(type="SGD", lr=0.01))
    log_vars = algorithm.train_step(dict(img=data["img"].double(), gt_label=data["gt_label"]), optimizers)["log_vars"]
    assert log_vars["arch.expected_mflops"] == pytest.approx(float(expected.detach()), rel=1e-12)


def test_step_logs_are_the_float_of_each_loss():
    """One device->host transfer per step reads exactly what float() of each loss reads."""
    from gml.models.algorithms.base import host_floats

    values = [torch.tensor(1.1, dtype=torch.float32), torch.tensor(2.3, dtype=torch.float64),
              torch.tensor(0.7, dtype=torch.float16)]
    assert host_floats(values) == [float(v) for v in values]


@pytest.mark.parametrize("model", [RESNET, MOBILENET_V2])
def test_markov_sampling_reads_all_chains_at_once_and_draws_what_each_chain_draws(model):
    import random

    from gml.models.pruning.markov import markov_walk, transition_probs

    mutator = build_dmcp(model).mutator
    _random_alphas(mutator)
    transitions = mutator.markov_transitions()
    for (name, layout), alpha in zip(mutator.layouts.items(), mutator.alphas):
        assert transitions[name] == ([float(p) for p in transition_probs(alpha.detach())] if layout.num_buckets
                                     else [])
    mutator._own_rng = random.Random(5)
    drawn = [mutator.markov_choice() for _ in range(3)]
    rng = random.Random(5)
    each = [{name: markov_walk(alpha, layout, rng) for (name, layout), alpha in zip(mutator.layouts.items(),
                                                                                   mutator.alphas)}
            for _ in range(3)]
    assert drawn == each and len({tuple(choice.values()) for choice in drawn}) > 1


def test_weight_step_logs_each_loss_their_sum_and_the_gradient_norm():
    algorithm = build_dmcp(RESNET, grad_clip=dict(max_norm=1e9))
    optimizers = algorithm.build_optimizers(dict(type="SGD", lr=0.0))  # lr 0: the step leaves the weights
    data = dict(img=torch.randn(4, *INPUT_SHAPE), gt_label=torch.randint(0, 10, (4,)))
    log_vars = algorithm._weight_step(data["img"], data["gt_label"], optimizers["weight"], 0)
    passes = [value for name, value in log_vars.items() if name.endswith(".loss") and name != "loss"]
    assert len(passes) == len(algorithm.mutator.plan) and log_vars["loss"] == sum(passes)
    grads = [p.grad for p in algorithm.model.parameters() if p.grad is not None]
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    assert log_vars["grad_norm"] == pytest.approx(float(norm), rel=1e-6) and log_vars["grad_norm"] > 0
    with torch.no_grad():  # and the max subnet's loss is the task loss of the max network
        algorithm.mutator.set_max()
        assert log_vars["0.max.loss"] == pytest.approx(float(algorithm._task_loss(algorithm._scores(data["img"]),
                                                                                  data["gt_label"])), rel=1e-6)
