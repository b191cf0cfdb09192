"""build_algorithm and BaseAlgorithm's runner protocol with a trivial wrapper."""
import pytest
import torch

from gml.errors import GmlConfigError
from gml.models import ALGORITHMS, BaseAlgorithm, build_algorithm, build_model

MODEL = dict(type="mmcls.ImageClassifier",
             backbone=dict(type="ResNet_CIFAR", depth=18, base_channels=8, stem_channels=8),
             neck=dict(type="GlobalAveragePooling"),
             head=dict(type="LinearClsHead", num_classes=10, in_channels=64))


@ALGORITHMS.register_module(force=True)
class _DoubleLossAlgorithm(BaseAlgorithm):
    """A trivial subclass: only its forward_train differs (every loss doubled)."""

    def __init__(self, model, factor=2.0, **kwargs):
        super().__init__(model, **kwargs)
        self.factor = factor

    def forward_train(self, img, **kwargs):
        return {k: v * self.factor for k, v in super().forward_train(img, **kwargs).items()}


def _batch(n=4):
    torch.manual_seed(0)
    return dict(img=torch.randn(n, 3, 32, 32), gt_label=torch.arange(n) % 10)


def test_build_algorithm_wraps_model_and_trains_like_it():
    algo = build_algorithm(dict(type="gml.BaseAlgorithm", model=MODEL))
    assert isinstance(algo, BaseAlgorithm)
    bare = build_model(MODEL)
    bare.load_state_dict(algo.model.state_dict())
    data = _batch()
    out = algo.train_step(data, None)
    ref = bare.train_step(data, None)
    assert out["num_samples"] == 4
    assert torch.allclose(out["loss"], ref["loss"])
    assert out["log_vars"].keys() == ref["log_vars"].keys()
    algo.eval(), bare.eval()
    results = algo(img=data["img"], return_loss=False)
    assert len(results) == 4 and results[0].shape == (10, )
    assert all((a == b).all() for a, b in zip(results, bare(img=data["img"], return_loss=False)))


def test_subclass_adds_only_its_logic():
    algo = build_algorithm(dict(type="_DoubleLossAlgorithm", model=MODEL, factor=3.0))
    plain = build_algorithm(dict(type="gml.BaseAlgorithm", model=MODEL))
    plain.load_state_dict(algo.state_dict())
    data = _batch()
    assert torch.allclose(algo.train_step(data, None)["loss"], 3 * plain.train_step(data, None)["loss"])
    val = algo.val_step(data)
    assert set(val) == {"loss", "log_vars", "num_samples"}


def test_checkpoint_keys_and_bare_model_weights():
    algo = build_algorithm(dict(type="gml.BaseAlgorithm", model=MODEL))
    assert all(k.startswith("model.") for k in algo.state_dict())
    bare = build_model(MODEL)
    algo.load_state_dict(bare.state_dict())  # a bare model's checkpoint loads into the algorithm
    for key, value in bare.state_dict().items():
        assert torch.equal(algo.state_dict()[f"model.{key}"], value)


def test_classes_forwarded_to_model():
    algo = build_algorithm(dict(type="gml.BaseAlgorithm", model=MODEL))
    algo.CLASSES = ("a", "b")
    assert algo.model.CLASSES == ("a", "b") and algo.CLASSES == ("a", "b")


def test_build_algorithm_rejects_a_config_that_is_not_a_dict():
    with pytest.raises(GmlConfigError, match="algorithm: expected a dict with a 'type' key"):
        build_algorithm(None)


@pytest.mark.parametrize("cfg", [{}, dict(model=MODEL), dict(model=MODEL, mutator=dict(type="gml.StatelessMutator"))])
def test_a_typeless_algorithm_without_a_quantizer_names_algorithm_type_and_the_known_types(cfg):
    with pytest.raises(GmlConfigError, match=r"^algorithm\.type: missing; expected one of .*gml\.BigNAS.*"
                                             r"gml\.QuantizationAwareTraining.*'quantizer' and no type means "
                                             r"gml\.QuantizationAwareTraining"):
        build_algorithm(cfg)


def test_unknown_algorithm():
    with pytest.raises(GmlConfigError, match=r"^algorithm\.type: unknown algorithm 'gml.NoSuchAlgorithm'; "
                                             r"expected one of .*gml\.DMCP"):
        build_algorithm(dict(type="gml.NoSuchAlgorithm", model=MODEL))


def _host_reads(fn):
    """(result of fn(), the number of single-value device-to-host reads (``.item()``/``float()``) it made)."""
    from torch.profiler import profile

    with profile() as prof:
        result = fn()
    return result, sum(e.count for e in prof.key_averages() if e.key == "aten::_local_scalar_dense")


def test_parse_losses_takes_scalar_losses_as_they_are_and_reads_the_host_once():
    scalar, per_sample = torch.tensor(0.75, requires_grad=True), torch.tensor([1.0, 2.0, 4.0], requires_grad=True)
    losses = dict(loss_a=scalar, loss_b=per_sample, loss_list=[scalar * 2, per_sample],
                  accuracy={"top-1": torch.tensor([50.0]), "count": 3})
    loss, tensors = BaseAlgorithm.loss_tensors(losses)
    assert tensors["loss_a"] is scalar  # a scalar is its own mean: no operator runs for it
    from torch.profiler import profile

    with profile() as prof:  # the sums start from their first term, not from python's 0 (no scalar add)
        BaseAlgorithm.loss_tensors(losses)
    adds = [e.count for e in prof.key_averages() if e.key == "aten::add"]
    assert adds == [1 + 2]  # loss_list's two terms; the total's three
    (loss, log_vars), reads = _host_reads(lambda: BaseAlgorithm.parse_losses(losses))
    assert reads == 0  # one transfer of all values (a stack read at once), not one read per value
    expected_total = scalar + per_sample.mean() + (scalar * 2 + per_sample.mean())
    assert torch.equal(loss, expected_total)
    mean = float(per_sample.detach().mean())
    assert log_vars == {"loss_a": 0.75, "loss_b": mean, "loss_list": float((scalar * 2 + per_sample.mean()).detach()),
                        "accuracy.top-1": 50.0, "accuracy.count": 3.0, "loss": float(expected_total.detach())}
    loss.backward()
    assert torch.equal(scalar.grad, torch.tensor(3.0)) and torch.equal(per_sample.grad, torch.full((3,), 2 / 3))
