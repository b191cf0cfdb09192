"""Losses, connectors, MEAL V2, connector pretraining and activation-boundary phases."""
import copy
import logging

import pytest
import torch
import torch.nn.functional as F

from gml.errors import GmlConfigError
from gml.models import build_algorithm
from gml.models.distill import (ActivationBoundaryLoss, AttentionTransferLoss, BaseDistillationHead,
                                ConvBNConnector, FactorTransferLoss, FeatureMSELoss, KLDivergenceLoss,
                                LinearConnector, Paraphraser, RKDLoss, Translator, build_part,
                                pretrain_connectors)

from ._fixtures import TEACHER, algorithm_cfg, kd_head


def test_kl_loss_is_zero_for_equal_logits_and_scaled_by_tau_squared():
    s, t = torch.randn(4, 10), torch.randn(4, 10)
    assert KLDivergenceLoss(tau=4)(t, t).item() == pytest.approx(0.0, abs=1e-6)
    expected = F.kl_div(F.log_softmax(s / 4, 1), F.softmax(t / 4, 1), reduction='batchmean') * 16
    assert KLDivergenceLoss(tau=4, loss_weight=0.5)(s, t).item() == pytest.approx(0.5 * expected.item(), rel=1e-5)


def test_unit_weight_and_temperature_run_no_multiply_and_change_no_bit():
    """A loss weight (or KD temperature) of 1 is skipped, not multiplied in: the same values and gradients with
    fewer operators forward and backward."""
    from torch.profiler import profile

    torch.manual_seed(0)
    s, t = torch.randn(4, 10), torch.randn(4, 10)

    def run(loss, fn):
        student = s.clone().requires_grad_()
        with profile() as prof:
            value = fn(loss, student)
            value.backward()
        return value, student.grad, sum(e.count for e in prof.key_averages() if e.key == "aten::mul")

    plain_mse = run(None, lambda _, x: F.mse_loss(x, t))
    value, grad, muls = run(FeatureMSELoss(), lambda loss, x: loss(x, t))
    assert torch.equal(value, plain_mse[0]) and torch.equal(grad, plain_mse[1]) and muls == plain_mse[2]
    plain_kl = run(None, lambda _, x: F.kl_div(F.log_softmax(x, 1), F.softmax(t, 1), reduction="batchmean"))
    value, grad, muls = run(KLDivergenceLoss(tau=1.0), lambda loss, x: loss(x, t))
    assert torch.equal(value, plain_kl[0]) and torch.equal(grad, plain_kl[1]) and muls == plain_kl[2]
    weighted, weighted_grad, weighted_muls = run(FeatureMSELoss(loss_weight=2.0), lambda loss, x: loss(x, t))
    # another weight is folded into the mean (one multiply of the sum): equal within float rounding
    assert weighted.item() == pytest.approx(2.0 * plain_mse[0].item(), rel=1e-6) and weighted_muls > plain_mse[2]


def test_feature_losses_vanish_on_equal_inputs_and_not_otherwise():
    a, b = torch.randn(4, 8, 4, 4), torch.randn(4, 8, 4, 4)
    for loss in (FeatureMSELoss(), AttentionTransferLoss(), RKDLoss(), FactorTransferLoss()):
        assert loss(a, a).item() == pytest.approx(0.0, abs=1e-5), type(loss).__name__
        assert loss(a, b).item() > 1e-4, type(loss).__name__
    # attention transfer and RKD compare features of different widths (and AT different sizes)
    assert AttentionTransferLoss()(torch.randn(4, 16, 8, 8), torch.randn(4, 8, 4, 4)).dim() == 0
    assert RKDLoss()(torch.randn(4, 64), torch.randn(4, 10)).dim() == 0
    with pytest.raises(GmlConfigError, match="add a connector"):
        FeatureMSELoss()(torch.randn(4, 8), torch.randn(4, 9))


def test_activation_boundary_loss_is_zero_beyond_the_margin():
    teacher = torch.tensor([[1.0, 0.0, 2.0, 0.0]])
    good = torch.tensor([[1.5, -1.5, 1.2, -3.0]])
    bad = torch.tensor([[-0.5, 0.5, 0.2, 0.0]])
    loss = ActivationBoundaryLoss(margin=1.0)
    assert loss(good, teacher).item() == 0.0
    assert loss(bad, teacher).item() > 0.0


@pytest.mark.parametrize("cfg, shape_in, shape_out", [
    (dict(type='gml.ConvBNConnector', in_channels=64, out_channels=32), (2, 64, 4, 4), (2, 32, 4, 4)),
    (dict(type='gml.ConvBNConnector', in_channels=64, out_channels=320, stride=4), (2, 64, 4, 4), (2, 320, 1, 1)),
    (dict(type='gml.LinearConnector', in_features=64, out_features=1280), (2, 64, 1, 1), (2, 1280)),
    (dict(type='gml.Translator', in_channels=64, factor_channels=16), (2, 64, 4, 4), (2, 16, 4, 4)),
    (dict(type='gml.Paraphraser', in_channels=32, factor_channels=16), (2, 32, 4, 4), (2, 16, 4, 4)),
])
def test_connectors_map_to_the_configured_shape(cfg, shape_in, shape_out):
    connector = build_part(cfg, 'c')
    assert tuple(connector(torch.randn(*shape_in)).shape) == shape_out


def test_paraphraser_reconstructs_its_input_shape_and_bad_channels_are_config_errors():
    para = Paraphraser(32, 16)
    assert para.reconstruct(torch.randn(2, 32, 4, 4)).shape == (2, 32, 4, 4)
    with pytest.raises(GmlConfigError, match=r"head\.stu_connector\.out_channels: expected an integer >= 1, got 0$"):
        build_part(dict(type='gml.ConvBNConnector', in_channels=8, out_channels=0), 'head.stu_connector')
    with pytest.raises(GmlConfigError, match=r"c\.pretrain_criterion: unknown key for Translator"):
        build_part(dict(type='gml.Translator', in_channels=8, factor_channels=4, pretrain_criterion={}), 'c')


def ft_head():
    return dict(student_module='backbone.layer4', teacher_module='backbone.layer3',
                head=dict(type='gml.BaseDistillationHead', name='ft',
                          stu_connector=dict(type='gml.Translator', in_channels=64, factor_channels=4),
                          tea_connector=dict(type='gml.Paraphraser', in_channels=8, factor_channels=4,
                                             pretrain_criterion=dict(type='gml.FeatureMSELoss')),
                          loss=dict(type='gml.FactorTransferLoss')))


def test_paraphraser_is_pretrained_then_frozen(teacher_ckpt, caplog):
    algo = build_algorithm(algorithm_cfg(teacher_ckpt, heads=[ft_head()], connector_pretrain=dict(
        epochs=8, optimizer=dict(type="Adam", lr=0.01))))
    algo.init_weights()
    para = algo.distiller.heads[0].tea_connector
    assert algo.distiller.pretrainable_connectors() and not any(p.requires_grad for p in para.parameters())
    torch.manual_seed(0)
    loader = [dict(img=torch.randn(8, 3, 32, 32)) for _ in range(4)]
    before = copy.deepcopy(para.state_dict())

    logger = logging.getLogger('gml.test.pretrain')
    with caplog.at_level(logging.INFO, logger='gml.test.pretrain'):
        losses = pretrain_connectors(algo.distiller, algo.model, loader, algo.connector_pretrain, logger)
    per_epoch = [float(r.getMessage().split('ft.teacher=')[1]) for r in caplog.records if r.name == 'gml.test.pretrain']
    assert len(per_epoch) == 8 and set(losses) == {'ft.teacher'}
    assert per_epoch[-1] == pytest.approx(losses['ft.teacher'], abs=1e-4) and per_epoch[-1] < 0.2 * per_epoch[0]
    assert any(not torch.equal(v, para.state_dict()[k]) for k, v in before.items())
    assert not any(p.requires_grad for p in para.parameters()) and not para.training
    # student training leaves the pretrained paraphraser alone; the translator trains
    algo.train()
    assert not para.training
    frozen = copy.deepcopy(para.state_dict())
    optimizer = torch.optim.SGD(algo.parameters(), lr=0.1)
    out = algo.train_step(dict(img=loader[1]['img'], gt_label=torch.arange(8)), optimizer)
    out['loss'].backward()
    optimizer.step()
    assert all(torch.equal(v, para.state_dict()[k]) for k, v in frozen.items())
    assert algo.distiller.heads[0].stu_connector.encoder[0][0].weight.grad is not None
    hook_types = {type(h).__name__ for h, _ in algo.runner_hooks()}
    assert 'ConnectorPretrainHook' in hook_types


def test_meal_uses_the_averaged_teachers_soft_labels_only(tmp_path):
    from ._fixtures import save_teacher

    ckpts = [save_teacher(tmp_path / f't{i}.pth', seed=i) for i in range(2)]
    teachers = [dict(model=copy.deepcopy(TEACHER), ckpt_path=c) for c in ckpts]
    algo = build_algorithm(algorithm_cfg(None, distill_cfg=teachers, use_meal=True,
                                         meal=dict(tau=2.0, discriminator=dict(hidden=16))))
    algo.train()
    img = torch.randn(6, 3, 32, 32)
    losses = algo(img=img, gt_label=torch.arange(6))
    assert set(losses) == {'loss_meal_kd', 'loss_meal_adv'}  # no hard-label cross-entropy
    with torch.no_grad():
        t_logits = [o.logits for o in algo.distiller.run_teachers(img)]
        target = (F.softmax(t_logits[0] / 2, 1) + F.softmax(t_logits[1] / 2, 1)) / 2
        algo.eval()
        s_logits = algo.model.head.simple_test(algo.model.extract_feat(img), softmax=False, post_process=False)
        algo.train()
    assert torch.allclose(algo.meal.ensemble_target(t_logits), target)
    # the discriminator learns to separate (its loss falls as it alone steps), the student gets reversed gradients
    disc_opt = torch.optim.SGD(algo.meal.discriminator.parameters(), lr=0.5)
    first = None
    for _ in range(20):
        disc_opt.zero_grad()
        adv = algo(img=img, gt_label=torch.arange(6))['loss_meal_adv']
        first = adv.item() if first is None else first
        adv.backward()
        disc_opt.step()
    assert adv.item() < first
    assert algo.model.head.fc.weight.grad is not None
    assert s_logits.shape == (6, 10)


def test_meal_without_discriminator_and_bad_options(teacher_ckpt):
    algo = build_algorithm(algorithm_cfg(teacher_ckpt, heads=[], use_meal=True))
    assert set(algo(img=torch.randn(4, 3, 32, 32), gt_label=torch.arange(4))) == {'loss_meal_kd'}
    with pytest.raises(GmlConfigError, match=r"algorithm\.meal\.discriminator\.depth: unknown key"):
        build_algorithm(algorithm_cfg(teacher_ckpt, use_meal=True, meal=dict(discriminator=dict(depth=3))))
    with pytest.raises(GmlConfigError, match="nothing to distil"):
        build_algorithm(algorithm_cfg(teacher_ckpt, heads=[]))


def test_activation_boundary_algorithm_switches_phase(teacher_ckpt):
    ab_head = dict(student_module='backbone.layer4', teacher_module='backbone.layer3',
                   head=dict(type='gml.BaseDistillationHead', name='ab',
                             stu_connector=dict(type='gml.ConvBNConnector', in_channels=64, out_channels=8),
                             loss=dict(type='gml.ActivationBoundaryLoss', margin=1.0)))
    cfg = algorithm_cfg(teacher_ckpt, heads=[ab_head, kd_head()], transfer_epochs=1)
    cfg['type'] = 'gml.ABTeacherStudentDistillation'
    algo = build_algorithm(cfg)
    algo.train()
    img, label = torch.randn(4, 3, 32, 32), torch.arange(4)
    assert set(algo(img=img, gt_label=label)) == {'loss_ab'}
    algo.epoch = 1
    assert set(algo(img=img, gt_label=label)) == {'loss', 'loss_kd'}
    cfg['distiller']['distill_cfg']['distill_head_cfg'] = [kd_head()]
    with pytest.raises(GmlConfigError, match="needs at least one head with loss=dict\\(type='gml.ActivationBoundary"):
        build_algorithm(cfg)


def test_head_requires_an_identifier_name():
    with pytest.raises(GmlConfigError, match=r"h\.name: expected an identifier such as 'kd_logits', got 'kd logits'$"):
        BaseDistillationHead(name='kd logits', loss=dict(type='gml.FeatureMSELoss'), cfg_path='h')
    assert isinstance(build_part(dict(type='gml.LinearConnector', in_features=2, out_features=3), 'c'),
                      LinearConnector)
    assert isinstance(ConvBNConnector(2, 3), torch.nn.Module) and isinstance(Translator(2, 3), torch.nn.Module)
