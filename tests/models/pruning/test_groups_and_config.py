"""Channel groups derived from plain mmcls backbones, the sampling modes, and config errors."""
import pytest

torch = pytest.importorskip("torch")

from gml.errors import GmlConfigError  # noqa: E402
from gml.models import build_algorithm  # noqa: E402
from gml.models.pruning.sampling import SampleType  # noqa: E402

from ._fixtures import (BOTTLENECK_RESNET, INPUT_SHAPE, MOBILENET_V2, MOBILENET_V2_SLICE, RESNET,  # noqa: E402
                        build_dmcp, dmcp_cfg)


def test_resnet_residual_channels_share_one_group():
    algorithm = build_dmcp(RESNET)
    groups = {g.name: g.producers for g in algorithm.mutator.groups}
    # stem + stage 1 (no downsample: the stem's stream), stage 2 (its downsample starts a new stream)
    assert groups["backbone.conv1"] == ["backbone.conv1", "backbone.layer1.0.conv2", "backbone.layer1.1.conv2"]
    assert groups["backbone.layer2.0.downsample.0"] == ["backbone.layer2.0.downsample.0",
                                                        "backbone.layer2.0.conv2", "backbone.layer2.1.conv2"]
    assert sorted(groups) == sorted(["backbone.conv1", "backbone.layer1.0.conv1", "backbone.layer1.1.conv1",
                                     "backbone.layer2.0.downsample.0", "backbone.layer2.0.conv1",
                                     "backbone.layer2.1.conv1"])


def test_bottleneck_deep_stem_and_mobilenet_v2_groups():
    bottleneck = {g.name: g.producers for g in build_dmcp(BOTTLENECK_RESNET).mutator.groups}
    assert "backbone.stem.0.conv" in bottleneck and "backbone.stem.1.conv" in bottleneck
    assert bottleneck["backbone.layer1.0.downsample.0"][1:] == ["backbone.layer1.0.conv3", "backbone.layer1.1.conv3",
                                                                "backbone.layer1.2.conv3"]
    algorithm = build_dmcp(MOBILENET_V2)
    modules = dict(algorithm.model.named_modules())
    mobilenet = {g.name: g.producers for g in algorithm.mutator.groups}
    # stage 3 (3 blocks, the last two residual): their projections share the first one's group
    assert mobilenet["backbone.layer3.0.conv.2.conv"] == [f"backbone.layer3.{i}.conv.2.conv" for i in range(3)]
    assert "backbone.conv2.conv" in mobilenet  # the last 1x1 conv is pruned too; depthwise convs follow their input
    assert all(modules[p].groups == 1 for producers in mobilenet.values() for p in producers)


@pytest.mark.parametrize("width_max", [1.0, 1.5])
def test_gml_mobilenet_v2_slice_is_pruned_exactly_as_mmcls_mobilenet_v2(width_max):
    width = dict(max=width_max, min=0.1, offset=0.1)
    plain, ours = (build_dmcp(model, width=width) for model in (MOBILENET_V2, MOBILENET_V2_SLICE))
    assert type(ours.model.backbone).__name__ == "MobileNetV2Slice"
    assert [(g.name, g.max_channels, g.producers) for g in ours.mutator.groups] == [
        (g.name, g.max_channels, g.producers) for g in plain.mutator.groups]
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in plain.state_dict().items()}
    for choice in ("max_choice", "min_choice"):
        assert ours.mutator.flops_of(getattr(ours.mutator, choice)()) == pytest.approx(
            plain.mutator.flops_of(getattr(plain.mutator, choice)()))


@pytest.mark.parametrize("model", [RESNET, BOTTLENECK_RESNET, MOBILENET_V2, MOBILENET_V2_SLICE])
def test_every_sampling_mode_gives_valid_widths_with_tied_groups_tied(model):
    algorithm = build_dmcp(model, mutator=dict(sample_width=[0.25, 0.5, 1.0]))
    mutator = algorithm.mutator
    with torch.no_grad():
        for alpha in mutator.alphas:
            alpha.uniform_(0, 1.5)
    modules = dict(algorithm.model.named_modules())
    img = torch.randn(2, *INPUT_SHAPE)
    algorithm.eval()
    for kind in SampleType:
        for iteration in (0, 10):  # before and after the architecture starts training (at 5)
            choice = mutator.set_choice(mutator.sample(kind, iteration, arch_start=5))
            for name, layout in mutator.layouts.items():
                assert choice[name] in layout.widths, (kind, name)
            for group in mutator.groups:
                assert {modules[p].active_out_channels for p in group.producers} == {choice[group.name]}
            assert algorithm(img=img, return_loss=False)  # residual additions run: tied widths agree
    for name in ("max_choice", "min_choice", "expected_choice", "markov_choice", "non_uniform_random_choice"):
        mutator.set_choice(getattr(mutator, name)())


def test_non_uni_random_draws_the_configured_ratios():
    algorithm = build_dmcp(RESNET, mutator=dict(sample_width=[0.5]))
    mutator = algorithm.mutator
    for name, width in mutator.non_uniform_random_choice().items():
        layout = mutator.layouts[name]
        assert width == layout.channels(4)  # (0.5 - 0.1) / 0.1 buckets


def test_arch_scaling_multiplies_bucket_outputs_by_keep_probability():
    algorithm = build_dmcp(RESNET).eval()
    mutator = algorithm.mutator
    with torch.no_grad():
        mutator.alpha_of("backbone.conv1").copy_(torch.linspace(0.2, 1.0, 9))
    backbone = algorithm.model.backbone
    img = torch.randn(1, *INPUT_SHAPE)
    with torch.no_grad():
        plain = backbone.bn1(backbone.conv1(img))
        with mutator.arch_scaling():
            scaled = backbone.bn1(backbone.conv1(img))
        plain_features = algorithm.model.extract_feat(img)
        with mutator.arch_scaling():
            scaled_features = algorithm.model.extract_feat(img)
    scale = mutator.scale_of(mutator.group_names.index("backbone.conv1"))
    kept = mutator.layouts["backbone.conv1"].min_channels
    assert torch.allclose(scaled, plain * scale.view(1, -1, 1, 1))
    assert torch.all(scale[:kept] == 1) and torch.all(scale[kept:] < 1)
    assert not torch.allclose(scaled_features[-1], plain_features[-1])  # the whole network sees the scaling
    assert torch.equal(backbone.bn1(backbone.conv1(img)), plain)  # and only inside the context


@pytest.mark.parametrize("change,path", [
    (dict(bogus=1), "algorithm.bogus"),
    (dict(algorithm_cfg=dict(arch_start=3)), "algorithm.algorithm_cfg.arch_start"),
    (dict(algorithm_cfg=dict(arch_train_freq=0)), "algorithm.algorithm_cfg.arch_train_freq"),
    (dict(floss_cfg=dict(target_flops=1.0, floss_type="l3")), "algorithm.floss_cfg.floss_type"),
    (dict(floss_cfg=dict(target_flops=1e6)), "algorithm.floss_cfg.target_flops"),
    (dict(floss_cfg=dict(target_flops=1.0, weight=2)), "algorithm.floss_cfg.weight"),
    (dict(mutator=dict(type="gml.DMCPMutator", width_max=2)), "algorithm.mutator.width_max"),
    (dict(mutator=dict(type="gml.DMCPMutator", width=dict(max=1, min=1.2, offset=0.1))), "algorithm.mutator.width.min"),
    (dict(mutator=dict(type="gml.DMCPMutator", width=dict(max=1, min=0.1, offset=2))),
     "algorithm.mutator.width.offset"),
    (dict(mutator=dict(type="gml.DMCPMutator", width=dict(max=1, min=-0.1, offset=0.1))),
     "algorithm.mutator.width.min"),
    (dict(mutator=dict(type="gml.DMCPMutator", width=dict(max=1, min=0.1, offset=0.1, step=1))),
     "algorithm.mutator.width.step"),
    (dict(mutator=dict(type="gml.DMCPMutator", arch_sample_type=["max", "huge"])),
     "algorithm.mutator.arch_sample_type[1]"),
    (dict(mutator=dict(type="gml.DMCPMutator", num_sample=9)), "algorithm.mutator.num_sample"),
    (dict(mutator=dict(type="gml.DMCPMutator", sample_width=[0.05])), "algorithm.mutator.sample_width[0]"),
    (dict(model=dict(RESNET, backbone=dict(type="mmcls.VGG", depth=11))), "algorithm.model.backbone.type"),
    (dict(model=dict(MOBILENET_V2_SLICE, backbone=dict(type="gml.MobileNetV2Slice", widen=0.5))),
     "algorithm.model.backbone.widen"),
    (dict(model=dict(MOBILENET_V2_SLICE, backbone=dict(type="gml.MobileNetV2Slice", widen_factor=0))),
     "algorithm.model.backbone.widen_factor"),
    (dict(model=dict(MOBILENET_V2_SLICE, backbone=dict(type="gml.MobileNetV2Slice", out_indices=(8,)))),
     "algorithm.model.backbone.out_indices[0]"),
    (dict(retraining=True), "algorithm.channel_cfg"),
    (dict(retraining=True, channel_cfg=dict(channels={"backbone.conv1": 8})), "model.backbone.channels"),
])
def test_config_errors_name_the_key_path(change, path):
    cfg = dmcp_cfg(RESNET, target=10.0)
    for key, value in change.items():
        if key == "mutator":
            value = dict(value, input_shape=INPUT_SHAPE)
        if isinstance(value, dict) and isinstance(cfg.get(key), dict) and key in ("floss_cfg",):
            value = dict(cfg[key], **value)
        cfg[key] = value
    with pytest.raises(GmlConfigError) as err:
        build_algorithm(cfg)
    assert path in str(err.value), str(err.value)


@pytest.mark.parametrize("change,message", [
    (dict(algorithm_cfg=dict(arch_train_freq=0)), "algorithm.algorithm_cfg.arch_train_freq: expected an integer >= 1, "
                                                  "got 0"),
    (dict(distill_iter=True), "algorithm.distill_iter: expected an integer >= 0, got True"),
    (dict(retraining="no"), "algorithm.retraining: expected true or false, got 'no'"),
    (dict(floss_cfg=dict(target_flops=1.0, floss_type="l3")),
     "algorithm.floss_cfg.floss_type: expected one of l2, l1, log_l1, inverted_log_l1, got 'l3'"),
    (dict(floss_cfg=dict(target_flops=0)), "algorithm.floss_cfg.target_flops: expected MFLOPs > 0, got 0"),
    (dict(mutator=dict(num_sample=True)), "algorithm.mutator.num_sample: expected an integer in [1, 4], got True"),
    (dict(mutator=dict(arch_weight_decay=-1)), "algorithm.mutator.arch_weight_decay: expected a number >= 0, got -1"),
    (dict(mutator=dict(input_shape=(3, 32, "32"))), "algorithm.mutator.input_shape[2]: expected an integer >= 1, "
                                                    "got '32'"),
    (dict(mutator=dict(sample_width=[0.05])), "algorithm.mutator.sample_width[0]: expected a ratio within "
                                              "width.min..width.max = [0.1, 1.0], got 0.05"),
])
def test_config_errors_read_expected_got(change, message):
    """One wording for every bad value: ``<key path>: expected <what>, got <value>``."""
    cfg = dmcp_cfg(RESNET, target=10.0)
    for key, value in change.items():
        cfg[key] = dict(cfg[key], **value) if key in ("floss_cfg", "mutator") else value
    with pytest.raises(GmlConfigError) as err:
        build_algorithm(cfg)
    assert str(err.value) == message


def test_a_too_narrow_model_for_the_offset_is_a_config_error():
    narrow = dict(RESNET, backbone=dict(RESNET["backbone"], stem_channels=4, base_channels=4),
                  head=dict(RESNET["head"], in_channels=8))
    with pytest.raises(GmlConfigError, match="algorithm.mutator.width"):
        build_algorithm(dmcp_cfg(narrow, target=0.5, width=dict(max=1.0, min=0.1, offset=0.1)))


@pytest.mark.parametrize("config", ["dmcp_resnet18_digits.py", "dmcp_resnet_digits16.py", "dmcp_mobilenetv2_digits.py",
                                    "dmcp_mobilenetv2slice_digits.py"])
def test_shipped_configs_build(config):
    import os

    from mmcv import Config

    from ._fixtures import ROOT

    cfg = Config.fromfile(os.path.join(ROOT, "configs", "pruning", "dmcp", config))
    algorithm = build_algorithm(cfg.algorithm)
    assert cfg.optimizer_config is None
    mutator = algorithm.mutator
    assert mutator.flops_of(mutator.min_choice()) < algorithm.target_flops < mutator.flops_of(mutator.max_choice())


def test_uniform_width_scaling_matches_a_flops_target():
    from gml.models.mutators.dmcp import uniform_choice

    mutator = build_dmcp(RESNET).mutator
    full = mutator.flops_of(mutator.max_choice())
    choice = uniform_choice(mutator, 0.5 * full)
    assert mutator.flops_of(choice) == pytest.approx(0.5 * full, rel=0.1)
    ratios = [choice[name] / layout.max_channels for name, layout in mutator.layouts.items()]
    assert max(ratios) - min(ratios) < 0.1  # every group at (about) the same fraction


def _head_floss_cfg(target, floss_type="l1"):
    """dmcp_cfg with the FLOPs loss on the head (``algorithm.model.head.floss_cfg``) instead of the algorithm."""
    cfg = dmcp_cfg(RESNET, target=target)
    floss = dict(cfg.pop("floss_cfg"), target_flops=target, floss_type=floss_type)
    cfg["model"] = dict(cfg["model"], head=dict(cfg["model"]["head"], floss_cfg=floss))
    return cfg


def test_the_flops_loss_may_be_given_on_the_head():
    """``model.head.floss_cfg`` comes off the head (an mmcls head does not take it) and is the algorithm's."""
    on_head = build_algorithm(_head_floss_cfg(10.0, "log_l1"))
    on_algorithm = build_algorithm(dict(dmcp_cfg(RESNET, target=10.0), floss_cfg=dict(
        target_flops=10.0, floss_type="log_l1", flop_loss_weight=1.0)))
    for algorithm in (on_head, on_algorithm):
        assert algorithm.target_flops == 10.0 and algorithm.floss_type.value == "log_l1"
        assert algorithm.flop_loss_weight == 1.0 and "floss_cfg" not in algorithm.model_cfg["head"]
    assert type(on_head.model.head) is type(on_algorithm.model.head)
    assert "floss_cfg" not in on_head.plain_model_cfg(on_head.mutator.min_choice())["head"]  # exports plain mmcls


def test_the_flops_loss_on_the_head_and_on_the_algorithm_is_one_error_naming_both():
    cfg = _head_floss_cfg(10.0)
    cfg["floss_cfg"] = dict(target_flops=10.0)
    with pytest.raises(GmlConfigError) as err:
        build_algorithm(cfg)
    message = str(err.value)
    assert message.startswith("algorithm.floss_cfg: ") and "algorithm.model.head.floss_cfg" in message


def test_a_bad_flops_loss_on_the_head_names_the_head_key_path():
    with pytest.raises(GmlConfigError, match=r"^algorithm\.model\.head\.floss_cfg\.floss_type: expected one of"):
        build_algorithm(_head_floss_cfg(10.0, "l3"))
    with pytest.raises(GmlConfigError, match=r"^algorithm\.model\.head\.floss_cfg\.target_flops: .*outside"):
        build_algorithm(_head_floss_cfg(1e6))


def test_retraining_without_a_structure_names_channel_cfg():
    with pytest.raises(GmlConfigError, match=r"^algorithm\.channel_cfg: retraining=True needs the pruned structure"):
        build_algorithm(dict(dmcp_cfg(RESNET, target=10.0), retraining=True))
