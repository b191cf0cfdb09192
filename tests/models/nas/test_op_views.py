"""The cheap paths of the dynamic ops: one view per sliced weight (the whole parameter when nothing is cut), blocks
whose gradients go straight into their part of ``.grad`` (``gradients_into_slices``), and BatchNorm running
statistics frozen without copies. Each equals, bit for bit, what plain slicing computes."""
import contextlib

import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from gml.models.ops import (BatchNorm2dSlice, Conv2dSlice, LinearSlice, frozen_running_stats,  # noqa: E402
                            gradients_into_slices, sub_block)

pytestmark = pytest.mark.mm


def test_sub_block_is_the_tensor_itself_when_whole_else_one_view_equal_to_slicing():
    weight = torch.randn(6, 5, 3, 3)
    assert sub_block(weight, (6, 5, 3, 3)) is weight
    block = sub_block(weight, (4, 2, 1, 1), (0, 0, 1, 1))
    assert torch.equal(block, weight[:4, :2, 1:2, 1:2])
    assert block.data_ptr() == weight[:4, :2, 1:2, 1:2].data_ptr()  # a view of the same storage, not a copy


def _grads(param_owner, run):
    param_owner.zero_grad(set_to_none=True)
    run().square().sum().backward()
    return {name: p.grad.clone() for name, p in param_owner.named_parameters()}


@pytest.mark.parametrize("in_c,out_c,k,depthwise", [(8, 16, 5, False), (5, 9, 3, False), (8, 16, 1, False),
                                                   (8, 8, 5, True), (6, 6, 3, True)])
def test_conv_forward_and_gradients_are_bit_identical_to_plain_slicing(in_c, out_c, k, depthwise):
    torch.manual_seed(0)
    conv = Conv2dSlice(8, 8 if depthwise else 16, 5, groups=8 if depthwise else 1, bias=True)
    conv.set_active(out_channels=None if depthwise else out_c, kernel_size=k)
    x = torch.randn(2, in_c, 7, 7)
    start = (5 - k) // 2
    out = in_c if depthwise else out_c
    groups = in_c if depthwise else 1

    def sliced():
        weight = conv.weight[:out, :(1 if depthwise else in_c), start:start + k, start:start + k]
        return F.conv2d(x, weight, conv.bias[:out], 1, conv._active_padding(), 1, groups)

    assert torch.equal(conv(x), sliced())
    assert all(torch.equal(a, b) for a, b in zip(_grads(conv, lambda: conv(x)).values(),
                                                 _grads(conv, sliced).values()))


def test_full_width_ops_run_on_the_parameters_themselves():
    conv, linear, norm = Conv2dSlice(4, 6, 3, bias=True), LinearSlice(6, 3), BatchNorm2dSlice(6)
    weight, bias, _ = conv.active_weight(4)
    assert weight is conv.weight and bias is conv.bias
    assert linear.active_weight(6) == (linear.weight, linear.bias)
    conv.set_active(out_channels=5)
    assert conv.active_weight(4)[0].shape == (5, 4, 3, 3) and conv.active_weight(4)[0] is not conv.weight
    # gradients reach the parameters directly and equal those of a plain network
    x = torch.randn(2, 4, 5, 5)
    conv.set_active(out_channels=6)
    plain = nn.Sequential(nn.Conv2d(4, 6, 3, padding=1), nn.BatchNorm2d(6))
    plain.load_state_dict({"0.weight": conv.weight, "0.bias": conv.bias, **{f"1.{k}": v for k, v in
                                                                            norm.state_dict().items()}})
    dynamic = nn.Sequential(conv, norm)
    ours = _grads(dynamic, lambda: dynamic(x))
    theirs = _grads(plain, lambda: plain(x))
    assert all(torch.equal(a, b) for a, b in zip(ours.values(), theirs.values()))


@pytest.mark.parametrize("channels", [5, 8])
def test_frozen_running_stats_keep_statistics_and_change_nothing_else(channels):
    torch.manual_seed(0)
    model = nn.Sequential(BatchNorm2dSlice(8), nn.BatchNorm2d(channels)).train()
    for module in model:
        with torch.no_grad():
            module.running_mean.normal_()
            module.running_var.uniform_(0.5, 2.0)
            module.weight.normal_()
    x = torch.randn(4, channels, 3, 3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with frozen_running_stats(model):
        frozen_out = model(x)
        frozen_grads = _grads(model, lambda: model(x))
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())  # statistics untouched
    assert not model[0].freeze_stats  # and only inside the context
    assert torch.equal(frozen_out, model(x))  # the same outputs as a normal training forward
    assert all(torch.equal(a, b) for a, b in zip(frozen_grads.values(), _grads(model, lambda: model(x)).values()))
    assert not torch.equal(model[0].running_mean, before["0.running_mean"])  # which does update them
    assert int(model[0].num_batches_tracked) == int(before["0.num_batches_tracked"]) + 2


@pytest.mark.parametrize("in_c,out_c,k,copies", [(8, 16, 5, 0), (8, 12, 5, 0), (5, 16, 5, 1), (8, 16, 3, 1),
                                                 (5, 9, 1, 1)])
def test_conv_makes_a_strided_weight_contiguous_once_for_forward_and_backward(in_c, out_c, k, copies):
    """A weight cut in its input channels or kernel is a strided view: it is copied once (here), not once in the
    convolution's forward and again in its backward; a whole or output-cut weight is not copied at all."""
    from torch.profiler import profile

    conv = Conv2dSlice(8, 16, 5)
    conv.set_active(out_channels=out_c, kernel_size=k)
    plain = conv.to_static(in_c)  # the same convolution on a weight of its own
    x = torch.randn(2, in_c, 6, 6)

    def clones(module):
        with profile() as prof:
            module(x).sum().backward()
        return sum(e.count for e in prof.key_averages() if e.key == "aten::clone")

    assert clones(conv) == clones(plain) + copies


def _subnet_grads(model, widths, x, direct):
    """Gradients accumulated by one backward per width in ``widths`` (a conv -> BN -> linear net, cut to each
    width in turn), within ``gradients_into_slices`` per subnet when ``direct``, else through autograd."""
    conv, norm, linear = model
    model.zero_grad(set_to_none=True)
    for width, kernel in widths:
        conv.set_active(out_channels=width, kernel_size=kernel)
        with gradients_into_slices() if direct else contextlib.nullcontext():
            out = linear(norm(conv(x)).mean(dim=(2, 3)))
            out.square().sum().backward()
    return {name: p.grad.clone() for name, p in model.named_parameters()}


def _bits(tensor):
    return tensor.view(torch.int32)


@pytest.mark.parametrize("widths", [[(16, 5), (9, 3), (12, 1)], [(9, 3), (16, 5)], [(5, 1)], [(16, 5)]])
def test_gradients_into_slices_accumulate_the_same_bits_as_autograd(widths):
    """Each subnet's blocks send their gradient into the parameters' .grad on exit: the same bits as autograd's
    zero-filled full-size gradients, whether .grad was None (a first, cut subnet) or not."""
    torch.manual_seed(0)
    model = nn.Sequential(Conv2dSlice(5, 16, 5, bias=True), BatchNorm2dSlice(16), LinearSlice(16, 4))
    x = torch.randn(3, 4, 6, 6)
    theirs = _subnet_grads(model, widths, x, direct=False)
    ours = _subnet_grads(model, widths, x, direct=True)
    assert all(torch.equal(_bits(ours[k]), _bits(theirs[k])) for k in theirs)
    assert any(not torch.equal(theirs[k], torch.zeros_like(theirs[k])) for k in theirs)


def test_blocks_within_gradients_into_slices_are_leaves_that_reach_grad_on_exit_only():
    weight = nn.Parameter(torch.randn(6, 4))
    frozen = torch.randn(6, 4)
    with gradients_into_slices():
        block = sub_block(weight, (3, 2), (1, 1))
        assert block.is_leaf and block.requires_grad and torch.equal(block, weight[1:4, 1:3])
        assert sub_block(frozen, (3, 2))._base is frozen  # a tensor without gradient: the plain view
        with torch.no_grad():
            assert sub_block(weight, (3, 2))._base is weight  # no gradients wanted: the plain view
        (block * 2).sum().backward()
        assert weight.grad is None  # not before the exit
    expected = torch.zeros(6, 4)
    expected[1:4, 1:3] = 2
    assert torch.equal(weight.grad, expected)


def test_gradients_into_slices_adds_nothing_after_an_exception():
    weight = nn.Parameter(torch.randn(6, 4))
    with pytest.raises(RuntimeError, match="stop"):
        with gradients_into_slices():
            sub_block(weight, (3, 2)).sum().backward()
            raise RuntimeError("stop")
    assert weight.grad is None
    assert torch.equal(sub_block(weight, (3, 2)), weight[:3, :2])  # and blocks are plain views again


def test_gradients_into_slices_build_no_full_size_gradient():
    """A cut block costs no zero-filled full-size gradient in backward (autograd's view gradient does)."""
    from torch.profiler import profile

    conv = Conv2dSlice(8, 16, 3)
    conv.set_active(out_channels=8)
    x = torch.randn(2, 6, 5, 5)
    conv(x).sum().backward()  # .grad exists: the sandwich's later subnets

    def zero_fills(direct):
        with profile() as prof:
            with gradients_into_slices() if direct else contextlib.nullcontext():
                conv(x).sum().backward()
        return sum(e.count for e in prof.key_averages() if e.key in ("aten::new_zeros", "aten::zeros"))

    assert zero_fills(direct=False) == 1 and zero_fills(direct=True) == 0
