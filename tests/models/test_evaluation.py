"""Bad ``search_eval_cfg.evaluator`` keywords: one GmlConfigError with the full key path, the value, the expectation."""
import pytest

from gml.errors import GmlConfigError
from gml.models.evaluation import NaiveEvaluator, build_evaluator


@pytest.mark.parametrize("cfg, message", [
    (dict(type="NaiveEvaluator", units="T"), "search_eval_cfg.evaluator.units: expected one of None, K, M, G, got 'T'"),
    (dict(type="NaiveEvaluator", default_shape=(1, 3, 32)),
     "search_eval_cfg.evaluator.default_shape: expected (N, C, H, W), got (1, 3, 32)"),
    (dict(type="NaiveEvaluator", default_shape=(1, 3, 32, 0)),
     "search_eval_cfg.evaluator.default_shape[3]: expected an integer >= 1, got 0"),
    (dict(type="Foo"), "search_eval_cfg.evaluator.type: unknown evaluator 'Foo'; valid: NaiveEvaluator"),
])
def test_bad_evaluator_config(cfg, message):
    with pytest.raises(GmlConfigError) as err:
        build_evaluator(cfg)
    assert str(err.value) == message


def test_default_evaluator():
    evaluator = build_evaluator(None)
    assert isinstance(evaluator, NaiveEvaluator)
    assert evaluator.units == "M" and evaluator.default_shape == (1, 3, 224, 224)
