"""Every dynamic op at any setting equals a freshly built static op holding the sliced weights."""
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from gml.models.ops import (BatchNorm2dSlice, Conv2dSlice, DynamicSequential, LinearSlice, ResizeSlice,  # noqa: E402
                            SELayerSlice, count_flops_params, recalibrate_bn, to_static_model)

pytestmark = pytest.mark.mm


def _randomize(module):
    torch.manual_seed(0)
    with torch.no_grad():
        for p in module.parameters():
            p.normal_()
        for name, b in module.named_buffers():
            if "running_var" in name:
                b.uniform_(0.5, 2.0)
            elif "running_mean" in name:
                b.normal_()


@pytest.mark.parametrize("in_c,out_c,k", [(8, 16, 5), (3, 7, 3), (5, 1, 1), (8, 16, 1)])
def test_conv_slice_equals_static_conv_with_sliced_weights(in_c, out_c, k):
    conv = Conv2dSlice(8, 16, 5, stride=2, bias=True)
    _randomize(conv)
    conv.set_active(out_channels=out_c, kernel_size=k)
    x = torch.randn(2, in_c, 11, 11)
    ref = nn.Conv2d(in_c, out_c, k, stride=2, padding=(k - 1) // 2, bias=True)
    start = (5 - k) // 2
    with torch.no_grad():
        ref.weight.copy_(conv.weight[:out_c, :in_c, start:start + k, start:start + k])
        ref.bias.copy_(conv.bias[:out_c])
    torch.testing.assert_close(conv(x), ref(x))
    static = conv.to_static(in_c)
    assert type(static) is nn.Conv2d and static.weight.shape == ref.weight.shape
    torch.testing.assert_close(static(x), ref(x))
    assert conv.active_param_count(in_c) == sum(p.numel() for p in ref.parameters())


@pytest.mark.parametrize("c,k", [(12, 7), (5, 3), (1, 5)])
def test_depthwise_slice_follows_input_width(c, k):
    conv = Conv2dSlice(12, 12, 7, groups=12)
    _randomize(conv)
    conv.set_active(kernel_size=k)
    x = torch.randn(3, c, 9, 9)
    ref = nn.Conv2d(c, c, k, padding=k // 2, groups=c, bias=False)
    start = (7 - k) // 2
    with torch.no_grad():
        ref.weight.copy_(conv.weight[:c, :, start:start + k, start:start + k])
    out = conv(x)
    assert out.shape == (3, c, 9, 9)
    torch.testing.assert_close(out, ref(x))
    torch.testing.assert_close(conv.to_static(c)(x), ref(x))


def test_conv_rejects_bad_settings():
    conv = Conv2dSlice(8, 16, 5)
    with pytest.raises(ValueError, match="kernel_size"):
        conv.set_active(kernel_size=4)
    with pytest.raises(ValueError, match="out_channels"):
        conv.set_active(out_channels=17)
    with pytest.raises(ValueError, match="input channels"):
        conv(torch.randn(1, 9, 5, 5))
    with pytest.raises(ValueError, match="depthwise"):
        Conv2dSlice(8, 16, 3, groups=4)


@pytest.mark.parametrize("training", [True, False])
def test_bn_slice_equals_static_bn_and_updates_shared_stats(training):
    bn = BatchNorm2dSlice(16)
    _randomize(bn)
    ref = nn.BatchNorm2d(6)
    with torch.no_grad():
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(ref, name).copy_(getattr(bn, name)[:6])
    untouched = bn.running_mean[6:].clone()
    bn.train(training)
    ref.train(training)
    x = torch.randn(4, 6, 5, 5)
    torch.testing.assert_close(bn(x), ref(x))
    torch.testing.assert_close(bn.running_mean[:6], ref.running_mean)
    torch.testing.assert_close(bn.running_var[:6], ref.running_var)
    torch.testing.assert_close(bn.running_mean[6:], untouched)
    bn.eval()
    ref.eval()
    torch.testing.assert_close(bn.to_static(6)(x), ref(x))


def test_linear_slice_equals_static_linear():
    fc = LinearSlice(32, 10)
    _randomize(fc)
    fc.set_active(7)
    x = torch.randn(3, 20)
    ref = nn.Linear(20, 7)
    with torch.no_grad():
        ref.weight.copy_(fc.weight[:7, :20])
        ref.bias.copy_(fc.bias[:7])
    torch.testing.assert_close(fc(x), ref(x))
    torch.testing.assert_close(fc.to_static(20)(x), ref(x))


def test_resize_slice_resizes_to_choice_and_validates():
    resize = ResizeSlice(dict(type="Int", lower=16, upper=33, step=8, default=24))
    assert resize.search_space["resolution"].values == (16, 24, 32)
    x = torch.randn(2, 3, 32, 32)
    assert resize(x).shape[-2:] == (24, 24)
    resize.set_choice({"resolution": 32})
    assert resize(x) is x
    with pytest.raises(ValueError, match="resolution"):
        resize.set_choice({"resolution": 20})


class _Tiny(nn.Module):
    """conv(3->8,k5) - bn - [2 residual-free blocks] - se - pool - fc(8->10)."""

    def __init__(self):
        super().__init__()
        self.conv = Conv2dSlice(3, 8, 5)
        self.bn = BatchNorm2dSlice(8)
        self.blocks = DynamicSequential(*[nn.Sequential(Conv2dSlice(8, 8, 3, groups=8), BatchNorm2dSlice(8))
                                          for _ in range(3)])
        self.se = SELayerSlice(8)
        self.fc = LinearSlice(8, 10)

    def set(self, width, kernel, depth):
        self.conv.set_active(out_channels=width, kernel_size=kernel)
        self.blocks.set_active(depth)
        self.se.set_active(width)

    def forward(self, x):
        x = self.se(self.blocks(torch.relu(self.bn(self.conv(x)))))
        return self.fc(x.mean((2, 3)))


@pytest.mark.parametrize("width,kernel,depth", [(8, 5, 3), (3, 3, 1), (5, 1, 2)])
def test_to_static_model_matches_dynamic_model(width, kernel, depth):
    model = _Tiny()
    _randomize(model)
    model.eval()
    model.set(width, kernel, depth)
    x = torch.randn(2, 3, 8, 8)
    expected = model(x)
    flops, params = count_flops_params(model, x[:1])
    static = to_static_model(model, x[:1])
    assert not any(isinstance(m, (Conv2dSlice, BatchNorm2dSlice, LinearSlice, DynamicSequential))
                   for m in static.modules())
    torch.testing.assert_close(static(x), expected)
    assert len(static.blocks) == depth
    assert params == sum(p.numel() for p in static.parameters())
    assert count_flops_params(static, x[:1]) == (flops, params)


def test_flops_match_hand_count_at_max_and_min():
    model = _Tiny()
    x = torch.randn(1, 3, 8, 8)
    model.set(8, 5, 3)   # max
    # conv 8*8 * 8 * 3*5*5 + 3 depthwise blocks 8*8 * 8 * 3*3 + se (8->8, 8->8 at 1x1) + fc 8*10
    hand_max = 64 * 8 * 75 + 3 * 64 * 8 * 9 + (8 * 8 + 8 * 8) + 80
    hand_max_params = (8 * 75) + 16 + 3 * (8 * 9 + 16) + (8 * 8 + 8 + 8 * 8 + 8) + (80 + 10)
    assert count_flops_params(model, x) == (hand_max, hand_max_params)
    model.set(2, 1, 1)   # min
    hand_min = 64 * 2 * 3 + 64 * 2 * 9 + (2 * 8 + 8 * 2) + 2 * 10
    hand_min_params = 2 * 3 + 4 + (2 * 9 + 4) + (2 * 8 + 8 + 8 * 2 + 2) + (20 + 10)
    assert count_flops_params(model, x) == (hand_min, hand_min_params)


def test_bn_recalibration_gives_exact_subnet_statistics():
    model = _Tiny()
    model.set(4, 3, 1)
    model.eval()
    batches = [torch.randn(5, 3, 8, 8) for _ in range(3)]
    used = recalibrate_bn(model, batches, model, num_iters=2)
    assert used == 2 and not model.training
    with torch.no_grad():
        feats = torch.cat([model.conv(b) for b in batches[:2]])
    # cumulative average of per-batch means == mean over both (equal batch sizes)
    torch.testing.assert_close(model.bn.running_mean[:4], feats.mean((0, 2, 3)), atol=1e-5, rtol=1e-4)
    assert model.bn.momentum == 0.1
