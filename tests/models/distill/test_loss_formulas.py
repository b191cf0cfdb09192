"""The distillation losses' cheaper formulas against the textbook ones: the same values and gradients (bit for bit
where the reorganisation is exact, within float rounding where a scale is folded), with fewer host operators."""
import pytest
import torch
import torch.nn.functional as F
from torch.profiler import profile

from gml.models.distill import (ActivationBoundaryLoss, AttentionTransferLoss, FactorTransferLoss, FeatureMSELoss,
                                KLDivergenceLoss, RKDLoss)
from gml.models.distill.losses import square, unit_samples, weighted_mean, weighted_total


def reference_loss(loss, s, t):
    """The textbook formula of ``loss`` (unfused: mean, then the temperature and the weight multiplied in)."""
    w = loss.loss_weight
    if isinstance(loss, KLDivergenceLoss):
        tau = loss.tau
        return w * (F.kl_div(F.log_softmax(s / tau, 1), F.softmax(t / tau, 1), reduction="batchmean") * tau * tau)
    if isinstance(loss, FeatureMSELoss):
        return w * F.mse_loss(s, t)
    if isinstance(loss, AttentionTransferLoss):
        s_map, t_map = s.abs().pow(loss.p).mean(1), t.abs().pow(loss.p).mean(1)
        size = min(s_map.shape[-2:], t_map.shape[-2:])
        s_map = F.adaptive_avg_pool2d(s_map.unsqueeze(1), size).squeeze(1)
        t_map = F.adaptive_avg_pool2d(t_map.unsqueeze(1), size).squeeze(1)
        return w * (F.normalize(s_map.flatten(1), dim=1) - F.normalize(t_map.flatten(1), dim=1)).pow(2).mean()
    if isinstance(loss, FactorTransferLoss):
        diff = F.normalize(s.flatten(1), dim=1) - F.normalize(t.flatten(1), dim=1)
        return w * (diff.abs().pow(2).mean() if loss.p == 2 else diff.abs().sum(dim=1).mean())
    if isinstance(loss, ActivationBoundaryLoss):
        active, m = (t > 0).float(), loss.margin
        on = (s - m).pow(2) * ((s < m).float() * active)
        off = (s + m).pow(2) * ((s > -m).float() * (1 - active))
        return w * ((on + off).sum() / s.shape[0] * 1e-3)
    if isinstance(loss, RKDLoss):
        s, t = s.flatten(1), t.flatten(1)

        def distances(x):
            d = torch.cdist(x, x)
            return d / d[d > 0].mean()

        def angles(x):
            diff = F.normalize(x.unsqueeze(0) - x.unsqueeze(1), p=2, dim=2)
            return torch.bmm(diff, diff.transpose(1, 2)).flatten()

        return w * (loss.distance_weight * F.smooth_l1_loss(distances(s), distances(t))
                    + loss.angle_weight * F.smooth_l1_loss(angles(s), angles(t)))
    raise AssertionError(type(loss))


def value_grad_ops(fn, s, t):
    """``fn(s, t)`` for a fresh student tensor: the value, the student's gradient and the host operators (aten::
    calls, forward and backward)."""
    s = s.clone().requires_grad_()
    with profile() as prof:
        value = fn(s, t)
        value.backward()
    return value.detach(), s.grad, sum(e.count for e in prof.key_averages() if e.key.startswith("aten::"))


LOSSES = [
    # (loss, student shape, teacher shape)
    (KLDivergenceLoss(tau=4.0), (8, 10), (8, 10)),
    (KLDivergenceLoss(tau=3.0, loss_weight=0.7), (6, 10), (6, 10)),
    (FeatureMSELoss(loss_weight=2.5), (6, 8, 3, 3), (6, 8, 3, 3)),
    (AttentionTransferLoss(loss_weight=100.0), (8, 64, 4, 4), (8, 32, 4, 4)),
    (AttentionTransferLoss(loss_weight=100.0), (6, 24, 5, 5), (6, 40, 5, 5)),
    (AttentionTransferLoss(p=3.0, loss_weight=3.0), (5, 12, 8, 8), (5, 20, 4, 4)),
    (FactorTransferLoss(p=1, loss_weight=1.5), (6, 16, 4, 4), (6, 16, 4, 4)),
    (FactorTransferLoss(p=2), (6, 16, 4, 4), (6, 16, 4, 4)),
    (ActivationBoundaryLoss(margin=0.5, loss_weight=2.0), (6, 12, 4, 4), (6, 12, 4, 4)),
    (RKDLoss(loss_weight=0.5), (6, 32), (6, 12)),
]


@pytest.mark.parametrize("loss, s_shape, t_shape", LOSSES, ids=lambda x: type(x).__name__ if
                         isinstance(x, torch.nn.Module) else "x".join(map(str, x)))
def test_losses_match_the_textbook_formula_with_no_more_operators(loss, s_shape, t_shape):
    torch.manual_seed(0)
    s, t = torch.randn(s_shape), torch.randn(t_shape)
    if isinstance(loss, ActivationBoundaryLoss):
        t = t.relu()
    value, grad, ops = value_grad_ops(loss, s, t)
    ref_value, ref_grad, ref_ops = value_grad_ops(lambda a, b: reference_loss(loss, a, b), s, t)
    torch.testing.assert_close(value, ref_value, rtol=1e-6, atol=0)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-5, atol=1e-6 * ref_grad.abs().max().item())
    assert ops <= ref_ops, (ops, ref_ops)


def test_power_of_two_sizes_give_the_textbook_bits():
    """With batch, map and channel sizes powers of 2 and tau a power of 2 (the shipped configs) the folded scales
    and the channel sum instead of the channel mean are exact: the same bits, forward and backward."""
    torch.manual_seed(1)
    for loss, s, t in [(KLDivergenceLoss(tau=4.0, loss_weight=1.0), torch.randn(8, 10), torch.randn(8, 10)),
                       (AttentionTransferLoss(loss_weight=100.0), torch.randn(8, 64, 4, 4), torch.randn(8, 32, 4, 4)),
                       (FeatureMSELoss(), torch.randn(8, 32, 4, 4), torch.randn(8, 32, 4, 4)),
                       (FactorTransferLoss(p=1), torch.randn(8, 16, 4, 4), torch.randn(8, 16, 4, 4))]:
        value, grad, ops = value_grad_ops(loss, s, t)
        ref_value, ref_grad, ref_ops = value_grad_ops(lambda a, b: reference_loss(loss, a, b), s, t)
        assert torch.equal(value, ref_value) and torch.equal(grad, ref_grad), type(loss).__name__
        if not isinstance(loss, FeatureMSELoss):  # (MSE with weight 1 runs exactly the textbook operators)
            assert ops < ref_ops, (type(loss).__name__, ops, ref_ops)


@pytest.mark.parametrize("shape", [(5, 7), (6, 5, 3), (3, 4, 5, 6)])
def test_unit_samples_and_square_are_bitwise_normalize_and_pow(shape):
    torch.manual_seed(2)
    x = torch.randn(shape)
    x[2] = 0.0  # a zero sample: the eps clamp
    for fast, slow in [(unit_samples, lambda v: F.normalize(v.flatten(1), dim=1).view(shape)),
                       (square, lambda v: v.pow(2)), (square, lambda v: v.abs().pow(2))]:
        a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
        g = torch.randn(shape)
        fa, fb = fast(a), slow(b)
        (fa * g).sum().backward()
        (fb * g).sum().backward()
        assert torch.equal(fa, fb) and torch.equal(a.grad, b.grad)


def test_weighted_total_is_one_operator_and_a_plain_division_for_a_scale_of_one():
    total = torch.tensor(7.0, requires_grad=True)
    assert torch.equal(weighted_total(total, 3, 1.0), total / 3)
    assert weighted_total(total, 4, 6.0).item() == 10.5
    values = torch.arange(6.0)
    assert torch.equal(weighted_mean(values, 1.0), values.mean())
    assert weighted_mean(values, 2.0).item() == pytest.approx(2 * values.mean().item(), rel=1e-7)
    with profile() as prof:
        weighted_total(total, 3, 5.0)
    assert [e.key for e in prof.key_averages() if e.key in ("aten::mul", "aten::div")] == ["aten::mul"]


def test_rkd_reads_nothing_to_the_host_and_handles_a_batch_of_equal_samples():
    torch.manual_seed(3)
    s, t = torch.randn(6, 32, requires_grad=True), torch.randn(6, 12)
    with profile() as prof:
        RKDLoss()(s, t).backward()
    reads = {e.key for e in prof.key_averages()} & {"aten::item", "aten::_local_scalar_dense", "aten::nonzero"}
    assert not reads  # no any(), no boolean indexing: a GPU step does not wait here
    same = torch.ones(4, 8, requires_grad=True)  # all distances 0: their mean is taken as 1, as before
    loss = RKDLoss(angle_weight=0.0)(same, torch.ones(4, 8))
    loss.backward()
    assert loss.item() == 0.0 and torch.isfinite(same.grad).all()
