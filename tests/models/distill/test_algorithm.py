"""gml.TeacherStudentDistillation in process: hooks, frozen teachers, checkpoints, config errors."""
import copy

import pytest
import torch
from mmcv.runner import load_checkpoint, save_checkpoint

from gml.errors import GmlConfigError
from gml.models import build_algorithm, build_model
from gml.models.distill import ModuleRecorder, TeacherCheckpointWarning

from ._fixtures import STUDENT, TEACHER, algorithm_cfg, kd_head


def fitnet_head(name="fitnet"):
    return dict(student_module='backbone.layer4', teacher_module='backbone.layer3',
                head=dict(type='gml.BaseDistillationHead', name=name,
                          stu_connector=dict(type='gml.ConvBNConnector', in_channels=64, out_channels=8),
                          loss=dict(type='gml.FeatureMSELoss')))


def test_recorder_keeps_the_named_modules_outputs():
    model = build_model(copy.deepcopy(STUDENT)).eval()
    recorder = ModuleRecorder(model, ['backbone.layer4', 'head.fc'], ['a', 'b'])
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad(), recorder:
        model.extract_feat(x)
        logits = model.head.simple_test(model.extract_feat(x), softmax=False, post_process=False)
    with torch.no_grad():
        feat = model.backbone.layer4(model.backbone.layer3(model.backbone.layer2(model.backbone.layer1(
            model.backbone.relu(model.backbone.norm1(model.backbone.conv1(x)))))))
    assert torch.allclose(recorder.outputs['backbone.layer4'], feat)
    assert torch.equal(recorder.outputs['head.fc'], logits)
    model(x, return_loss=False)  # outside the context nothing is recorded
    assert recorder.active is False


def test_training_steps_leave_teacher_frozen_and_identical(teacher_ckpt, batch):
    algo = build_algorithm(algorithm_cfg(teacher_ckpt, heads=[kd_head(), fitnet_head()]))
    algo.init_weights()
    algo.train()
    teacher = algo.distiller.teachers[0].model
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    teacher_params = {id(p) for p in teacher.parameters()}
    assert not teacher_params & {id(p) for p in algo.parameters()}  # never in the optimizer
    assert not teacher.training and all(not p.requires_grad for p in teacher.parameters())
    student_before = algo.model.backbone.conv1.weight.clone()
    optimizer = torch.optim.SGD(algo.parameters(), lr=0.1)
    img, label = batch
    for _ in range(3):
        out = algo.train_step(dict(img=img, gt_label=label), optimizer)
        optimizer.zero_grad()
        out['loss'].backward()
        optimizer.step()
    assert {'loss', 'loss_kd', 'loss_fitnet'} <= set(out['log_vars'])
    assert all(p.grad is None for p in teacher.parameters())
    for key, value in teacher.state_dict().items():
        assert torch.equal(value, before[key]), key  # BN running stats too: eval mode
    assert not teacher.training
    assert not torch.equal(student_before, algo.model.backbone.conv1.weight)
    assert algo.distiller.heads[1].stu_connector.conv.weight.grad is not None


def test_checkpoint_has_no_teacher_and_round_trips(teacher_ckpt, tmp_path, batch):
    algo = build_algorithm(algorithm_cfg(teacher_ckpt, heads=[kd_head(), fitnet_head()]))
    keys = list(algo.state_dict())
    assert keys and all(k.startswith(('model.', 'distiller.heads.')) for k in keys)
    assert not any('teacher' in k for k in keys)
    save_checkpoint(algo, str(tmp_path / 'kd.pth'))
    other = build_algorithm(algorithm_cfg(teacher_ckpt, heads=[kd_head(), fitnet_head()]))
    load_checkpoint(other, str(tmp_path / 'kd.pth'), strict=True)
    for key, value in algo.state_dict().items():
        assert torch.equal(value, other.state_dict()[key]), key


def test_teacher_loaded_from_checkpoint_with_bare_or_algorithm_keys(teacher_ckpt, tmp_path):
    reference = build_model(copy.deepcopy(TEACHER))
    load_checkpoint(reference, teacher_ckpt, strict=True)
    algo = build_algorithm(algorithm_cfg(teacher_ckpt))
    teacher = algo.distiller.teachers[0].model
    for key, value in reference.state_dict().items():
        assert torch.equal(teacher.state_dict()[key], value), key
    wrapped = build_algorithm(dict(type='gml.BaseAlgorithm', model=copy.deepcopy(TEACHER)))
    wrapped.model.load_state_dict(reference.state_dict())
    save_checkpoint(wrapped, str(tmp_path / 'algo_teacher.pth'))  # keys model.backbone.*
    algo2 = build_algorithm(algorithm_cfg(str(tmp_path / 'algo_teacher.pth')))
    assert torch.equal(algo2.distiller.teachers[0].model.head.fc.weight, reference.head.fc.weight)


def test_missing_teacher_checkpoint_warns_and_bad_path_is_a_config_error(tmp_path):
    with pytest.warns(TeacherCheckpointWarning, match="RANDOM"):
        build_algorithm(algorithm_cfg(None))
    with pytest.raises(GmlConfigError, match=r"algorithm\.distiller\.distill_cfg\.ckpt_path: .*not a file"):
        build_algorithm(algorithm_cfg(str(tmp_path / 'nope.pth')))


@pytest.mark.parametrize("side, name, path", [
    ('student_module', 'backbone.layer5', r'distill_cfg\.distill_head_cfg\[0\]\.student_module'),
    ('teacher_module', 'backbone.layr3', r'distill_cfg\.distill_head_cfg\[0\]\.teacher_module'),
])
def test_wrong_module_name_is_a_config_error_with_nearby_names(teacher_ckpt, side, name, path):
    head = kd_head()
    head[side] = name
    with pytest.raises(GmlConfigError, match=path) as info:
        build_algorithm(algorithm_cfg(teacher_ckpt, heads=[head]))
    message = str(info.value)
    assert name in message and 'nearby names' in message
    assert ('backbone.layer4' if side == 'student_module' else 'backbone.layer3') in message


def test_multiple_teachers_get_indexed_key_paths(teacher_ckpt):
    teachers = [dict(model=copy.deepcopy(TEACHER), ckpt_path=teacher_ckpt, distill_head_cfg=[kd_head('kd_a')]),
                dict(model=copy.deepcopy(TEACHER), ckpt_path=teacher_ckpt, distill_head_cfg=[kd_head('kd_b')])]
    algo = build_algorithm(algorithm_cfg(None, distill_cfg=teachers))
    assert len(algo.distiller.teachers) == 2
    losses = algo(img=torch.randn(4, 3, 32, 32), gt_label=torch.arange(4))
    assert {'loss_kd_a', 'loss_kd_b'} <= set(losses)
    teachers[1]['distill_head_cfg'][0]['student_module'] = 'head.fcc'
    with pytest.raises(GmlConfigError, match=r"distill_cfg\[1\]\.distill_head_cfg\[0\]\.student_module.*head\.fc"):
        build_algorithm(algorithm_cfg(None, distill_cfg=teachers))
    teachers[1]['distill_head_cfg'] = [kd_head('kd_a')]
    with pytest.raises(GmlConfigError, match=r"distill_cfg\[1\]\.distill_head_cfg\[0\]\.head\.name.*twice"):
        build_algorithm(algorithm_cfg(None, distill_cfg=teachers))


@pytest.mark.parametrize("mutate, pattern", [
    (lambda c: c.update(temperature=4), r"algorithm\.temperature: unknown key .*valid: model, distiller"),
    (lambda c: c['distiller']['distill_cfg'].update(ckpt=1), r"distill_cfg\.ckpt: unknown key; valid: model"),
    (lambda c: c['distiller'].update(teachers=[]), r"algorithm\.distiller\.teachers: unknown key"),
    (lambda c: c['distiller']['distill_cfg']['distill_head_cfg'][0].update(module='x'),
     r"distill_head_cfg\[0\]\.module: unknown key; valid: student_module, teacher_module, head"),
    (lambda c: c['distiller']['distill_cfg']['distill_head_cfg'][0]['head'].update(weight=2),
     r"distill_head_cfg\[0\]\.head\.weight: unknown key for BaseDistillationHead"),
    (lambda c: c['distiller']['distill_cfg']['distill_head_cfg'][0]['head']['loss'].update(type='gml.KLDivergence'),
     r"head\.loss\.type: unknown type 'gml\.KLDivergence'; nearby names: gml\.KLDivergenceLoss"),
    (lambda c: c['distiller']['distill_cfg']['distill_head_cfg'][0]['head']['loss'].update(tau=0),
     r"head\.loss\.tau: expected a number > 0, got 0$"),
    (lambda c: c.update(use_meal='yes'), r"algorithm\.use_meal: expected true or false, got 'yes'$"),
    (lambda c: c.update(meal=dict(tau=2)), r"algorithm\.meal: MEAL V2 options are set but use_meal is False"),
    (lambda c: c.update(use_meal=True, meal=dict(discriminator=dict(hidden=0))),
     r"algorithm\.meal\.discriminator\.hidden: expected an integer >= 1, got 0$"),
    (lambda c: c.update(use_meal=True, meal=dict(tau=-1)), r"algorithm\.meal\.tau: expected a number > 0, got -1$"),
    (lambda c: c.update(connector_pretrain=dict(epochs=True)),
     r"algorithm\.connector_pretrain\.epochs: expected an integer >= 1, got True$"),
    (lambda c: c['distiller']['distill_cfg']['distill_head_cfg'][0]['head']['loss'].update(loss_weight=-2),
     r"head\.loss\.loss_weight: expected a number >= 0, got -2$"),
])
def test_bad_config_is_one_error_with_the_key_path(teacher_ckpt, mutate, pattern):
    cfg = algorithm_cfg(teacher_ckpt)
    mutate(cfg)
    with pytest.raises(GmlConfigError, match=pattern):
        build_algorithm(cfg)


def test_connector_shape_mismatch_names_the_head(teacher_ckpt, batch):
    head = fitnet_head()
    head['head']['stu_connector']['out_channels'] = 16  # the teacher's layer3 has 8 channels at width 0.25
    algo = build_algorithm(algorithm_cfg(teacher_ckpt, heads=[head]))
    with pytest.raises(GmlConfigError, match=r"distill_head_cfg\[0\]\.head: head 'fitnet': the student side gives "
                                             r"\(8, 16, 4, 4\), the teacher side \(8, 8, 4, 4\)"):
        algo(img=batch[0], gt_label=batch[1])


def test_test_mode_runs_the_student_only(teacher_ckpt, batch):
    algo = build_algorithm(algorithm_cfg(teacher_ckpt)).eval()
    calls = []
    algo.distiller.teachers[0].model.register_forward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        scores = algo(img=batch[0], return_loss=False)
        plain = algo.model(img=batch[0], return_loss=False)
    assert not calls and len(scores) == 8
    assert all((a == b).all() for a, b in zip(scores, plain))


def test_pretrained_initialises_the_student(teacher_ckpt, tmp_path):
    donor = build_model(copy.deepcopy(STUDENT))
    torch.nn.init.constant_(donor.head.fc.weight, 0.25)
    save_checkpoint(donor, str(tmp_path / 'student.pth'))
    algo = build_algorithm(algorithm_cfg(teacher_ckpt, pretrained=str(tmp_path / 'student.pth')))
    algo.init_weights()
    for key, value in donor.state_dict().items():
        assert torch.equal(algo.model.state_dict()[key], value), key
    with pytest.raises(GmlConfigError, match=r"algorithm\.pretrained: student checkpoint .* is not a file"):
        build_algorithm(algorithm_cfg(teacher_ckpt, pretrained=str(tmp_path / 'none.pth')))
