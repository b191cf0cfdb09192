"""SPOS: uniform single-path steps on the ShuffleNetV2 one-shot supernet, and its export to plain mmcls."""
import copy

import pytest
import torch
from mmcv import Config

from gml.errors import GmlConfigError
from gml.models.backbones.shufflenet_v2_oneshot import CHOICES, ChoiceBlock
from gml.models.hooks.naive_evaluator import NaiveEvaluator

SPOS_MODEL = dict(
    type="gml.ImageClassifierSearch",
    backbone=dict(type="gml.ShuffleNetV2_OneShot", stage_blocks=[2, 2], stage_channels=[16, 32],
                  stage_strides=[2, 2], stem_channels=8, stem_stride=1, last_channels=64),
    neck=dict(type="mmcls.GlobalAveragePooling"),
    head=dict(type="gml.LinearClsHeadV2", num_classes=10, in_channels=1, loss=dict(type="mmcls.CrossEntropyLoss"),
              topk=(1,)),
    connect_head=dict(in_channels="backbone.feat_dim"))


def spos(model=SPOS_MODEL, **kwargs):
    from gml.models import build_algorithm
    return build_algorithm(dict(type="gml.SPOS", model=copy.deepcopy(model), **kwargs))


def _blocks(alg):
    return [m for m in alg.modules() if isinstance(m, ChoiceBlock)]


def test_a_step_trains_exactly_one_choice_per_block():
    torch.manual_seed(0)
    alg = spos(mutator=dict(type="gml.StatelessMutator", seed=1))
    img, label = torch.randn(4, 3, 16, 16), torch.randint(0, 10, (4,))
    seen = set()
    for _ in range(6):
        alg.zero_grad()
        out = alg.train_step(dict(img=img, gt_label=label))
        out["loss"].backward()      # what the runner's OptimizerHook does
        chosen = alg.last_choice["backbone"]["blocks"]
        seen.update(chosen)
        for block, name in zip(_blocks(alg), chosen):
            for unit_name, unit in block.units.items():
                grads = [p.grad for p in unit.parameters()]
                if unit_name == name:
                    assert all(g is not None and g.abs().sum() > 0 for g in grads), unit_name
                else:
                    assert all(g is None or not g.any() for g in grads), unit_name
        # evaluation runs the default path again
        assert alg.mutator.current_choice()["backbone"]["blocks"] == ["shuffle_xception"] * 4
    assert len(seen) > 1


def test_export_loads_in_plain_mmcls_with_the_same_outputs(tmp_path):
    from mmcls.models import build_classifier
    from mmcv.runner import load_checkpoint

    from gml.models.subnet import export_subnet

    alg = spos(mutator=dict(type="gml.StatelessMutator", seed=2)).eval()
    choice = {"backbone": {"blocks": ["shuffle_7x7", "shuffle_xception", "shuffle_3x3", "shuffle_5x5"]}}
    alg.mutator.set_choice(choice)
    img = torch.randn(3, 3, 16, 16)
    expected = alg(img, return_loss=False)
    params = NaiveEvaluator(units=None, default_shape=(1, 3, 16, 16)).complexity(alg)["params"]
    cfg = Config(dict(algorithm=dict(type="gml.SPOS", model=copy.deepcopy(SPOS_MODEL)), data=dict()))
    plain_cfg, state = export_subnet(cfg, alg, choice, input_size=16)
    assert plain_cfg.model.type == "mmcls.ImageClassifier" and plain_cfg.model.backbone.static
    path = str(tmp_path / "subnet.pth")
    torch.save(dict(state_dict=state), path)
    plain = build_classifier(plain_cfg.model)
    load_checkpoint(plain, path, strict=True)
    plain.eval()
    assert [len(b.units) for b in _blocks(plain)] == [1] * 4
    for a, b in zip(expected, plain(img, return_loss=False)):
        assert a == pytest.approx(b, abs=1e-5)
    assert sum(p.numel() for p in plain.parameters()) == params


def test_space_is_the_shared_one_and_errors_name_the_key():
    from gml.models.space import flat_space
    alg = spos()
    flat = flat_space(alg.mutator.search_space)
    assert flat.keys == [f"backbone.blocks[{i}]" for i in range(4)]
    assert flat.dimension("backbone.blocks[0]").choices == CHOICES
    bad = copy.deepcopy(SPOS_MODEL)
    bad["backbone"]["search_space"] = dict(blocks=dict(type="Categorical", data=["shuffle_3x3", "shuffle_9x9"]))
    with pytest.raises(GmlConfigError, match=r"model.backbone.search_space.blocks\[0\]: unknown block 'shuffle_9x9'"):
        spos(bad)
    with pytest.raises(GmlConfigError, match=r"mutable_cfg.backbone.blocks\[1\]: 'nope' is not one of"):
        spos(mutable_cfg={"backbone": {"blocks": ["shuffle_3x3", "nope", "shuffle_3x3", "shuffle_3x3"]}})
