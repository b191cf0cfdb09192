"""DMCP's Markov chain over channel buckets: layouts, keep probabilities, expected width, sampling."""
import random

import pytest

torch = pytest.importorskip("torch")

from gml.models.pruning.markov import (BucketLayout, channel_scale, expected_channels,  # noqa: E402
                                       expected_width_rounded, keep_probs, markov_walk, transition_probs)


def test_layout_splits_channels_into_kept_and_buckets():
    layout = BucketLayout.of(64, width_min=0.1, width_max=1.0, offset=0.1)
    assert (layout.bucket_size, layout.num_buckets, layout.min_channels) == (6, 9, 10)
    assert layout.widths == [10 + 6 * k for k in range(10)]
    wide = BucketLayout.of(96, width_min=0.1, width_max=1.5, offset=0.1)  # a supernet 1.5x the model
    assert (wide.bucket_size, wide.num_buckets, wide.min_channels) == (6, 14, 12)
    assert layout.buckets_of(28) == 3
    with pytest.raises(ValueError):
        layout.buckets_of(29)


def test_keep_probs_are_the_cumulative_product_of_transitions():
    alpha = torch.tensor([0.0, 0.5, 1.0, 2.0])
    p = transition_probs(alpha)
    assert torch.allclose(keep_probs(alpha), torch.tensor([p[0], p[0] * p[1], p[0] * p[1] * p[2], p.prod()]))
    assert torch.all(keep_probs(alpha)[1:] <= keep_probs(alpha)[:-1])


@pytest.mark.parametrize("bucket", [0, 3, 8])
def test_keep_probs_and_expected_width_fall_as_a_parameter_moves_toward_pruning(bucket):
    layout = BucketLayout.of(64, 0.1, 1.0, 0.1)
    previous_keep, previous_width = None, None
    for value in [0.0, 0.25, 0.5, 1.0, 2.0, 4.0]:
        alpha = torch.zeros(layout.num_buckets)
        alpha[bucket] = value
        keep = keep_probs(alpha)
        width = float(expected_channels(alpha, layout))
        if previous_keep is not None:
            assert torch.all(keep <= previous_keep + 1e-7)
            assert keep[bucket] < previous_keep[bucket]
            assert width < previous_width
        previous_keep, previous_width = keep, width
    # the expected width's gradient says the same: more alpha, fewer channels
    alpha = torch.full((layout.num_buckets,), 0.3, requires_grad=True)
    expected_channels(alpha, layout).backward()
    assert torch.all(alpha.grad < 0)


def test_expected_width_spans_min_to_max():
    layout = BucketLayout.of(64, 0.1, 1.0, 0.1)
    assert float(expected_channels(torch.zeros(9), layout)) == 64
    assert float(expected_channels(torch.full((9,), 50.0), layout)) == pytest.approx(10, abs=1e-6)
    assert expected_width_rounded(torch.zeros(9), layout) == 64


def test_channel_scale_repeats_each_bucket_probability_over_its_channels():
    layout = BucketLayout.of(64, 0.1, 1.0, 0.1)
    alpha = torch.linspace(0, 2, 9)
    scale = channel_scale(alpha, layout)
    assert scale.shape == (64,)
    assert torch.all(scale[:10] == 1)
    assert torch.allclose(scale[10:16], keep_probs(alpha)[0].expand(6))
    assert torch.allclose(scale[-6:], keep_probs(alpha)[-1].expand(6))


def test_markov_walk_draws_widths_of_the_group_with_the_chain_s_distribution():
    layout = BucketLayout.of(64, 0.1, 1.0, 0.1)
    alpha = torch.full((9,), 0.2)
    rng = random.Random(0)
    draws = [markov_walk(alpha, layout, rng) for _ in range(4000)]
    assert set(draws) <= set(layout.widths)
    mean = sum(draws) / len(draws)
    assert mean == pytest.approx(float(expected_channels(alpha, layout)), rel=0.03)
    assert all(markov_walk(torch.zeros(9), layout, rng) == 64 for _ in range(20))
