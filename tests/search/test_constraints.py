"""searcher.constraints: parsed from text without evaluating it, key paths in errors, violations in Optuna's
convention, and a constraint-aware searcher (TPE) that steers away from infeasible regions."""
import math

import pytest

from gml.errors import GmlConfigError
from gml.search.config.build import build_searcher
from gml.search.config.search_config import parse_search_config
from gml.search.constraints import Comparison, Constraint, parse_constraints

SPACE = [{"type": "Real", "name": "x", "data": [0.0, 1.0]}]


def config(tmp_path, constraints, scalars=None, searcher="TPESearcher"):
    raw = {"task": {"template": "python train.py --x {x}", "search_args": SPACE},
           "searcher": {"type": searcher, "constraints": constraints, "seed": 0}}
    if scalars is not None:
        raw["scalars"] = scalars
    return parse_search_config(raw, str(tmp_path))


def test_constraints_parse_into_typed_comparisons_and_their_scalars_are_collected(tmp_path):
    cfg = config(tmp_path, ["flops <= 600", "latency_ms<20", " Test Acc >= 0.5 ", "size > -1e3"], scalars=["loss"])
    assert cfg.searcher.constraints == [Constraint("flops", Comparison.AT_MOST, 600.0),
                                        Constraint("latency_ms", Comparison.BELOW, 20.0),
                                        Constraint("Test Acc", Comparison.AT_LEAST, 0.5),
                                        Constraint("size", Comparison.ABOVE, -1000.0)]
    assert cfg.collected_scalars == ["acc", "loss", "flops", "latency_ms", "Test Acc", "size"]
    assert "constraints" not in cfg.searcher.kwargs
    assert parse_constraints("flops <= 600") == [Constraint("flops", Comparison.AT_MOST, 600.0)]


@pytest.mark.parametrize("constraints, path, words", [
    (["flops <= 600", "latency_ms ~ 20"], "searcher.constraints[1]", "'SCALAR OP NUMBER'"),
    (["flops <= 6OO"], "searcher.constraints[0]", "'6OO' is not a number"),
    (["<= 600"], "searcher.constraints[0]", "OP one of <=, <, >=, >"),
    (["flops == 600"], "searcher.constraints[0]", "OP one of"),
    (["flops => 600"], "searcher.constraints[0]", "OP one of"),
    (["a < b < 3"], "searcher.constraints[0]", "OP one of"),
    (["flops <= inf"], "searcher.constraints[0]", "a finite bound"),
    (["flops <= 600", "flops<=600"], "searcher.constraints[1]", "repeats searcher.constraints[0]"),
    ([600], "searcher.constraints[0]", "got 600"),
    ({"flops": 600}, "searcher.constraints", "a list of constraints"),
])
def test_a_bad_constraint_names_its_key_path(tmp_path, constraints, path, words):
    with pytest.raises(GmlConfigError) as err:
        config(tmp_path, constraints)
    assert err.value.path == path and words in err.value.message, str(err.value)


def test_a_constraint_is_text_never_code(tmp_path):
    (constraint,) = config(tmp_path, ["__import__('os').system('touch pwned') < 1"]).searcher.constraints
    assert constraint.scalar == "__import__('os').system('touch pwned')"     # just a scalar name that is never reported
    assert not (tmp_path / "pwned").exists() and constraint.violation(None) == math.inf


def test_violations_are_zero_when_kept_and_the_distance_to_the_bound_when_broken():
    at_most, below = Constraint("f", Comparison.AT_MOST, 600), Constraint("f", Comparison.BELOW, 600)
    at_least, above = Constraint("a", Comparison.AT_LEAST, 0.5), Constraint("a", Comparison.ABOVE, 0.5)
    assert [at_most.violation(v) for v in (500, 600, 650)] == [0, 0, 50]
    assert below.violation(599) == 0 and 0 < below.violation(600) < 1e-9 and below.violation(601) == 1
    assert [at_least.violation(v) for v in (0.7, 0.5, 0.25)] == [0, 0, 0.25]
    assert above.violation(0.5) > 0 and above.violation(0.6) == 0
    assert at_most.violation(float("nan")) == math.inf and at_most.violation(None) == math.inf


def run_tpe(searcher, trials, tell_constraints):
    """Maximise x on [0, 1], where flops = x must stay <= 0.3; returns the points suggested."""
    points = []
    for _ in range(trials):
        point = searcher.suggest()
        searcher.mark_issued(point)
        if tell_constraints:
            searcher.constraints_observed(point, [max(point["x"] - 0.3, 0.0)])
        searcher.observe(point, point["x"])
        points.append(point["x"])
    return points


def test_tpe_uses_the_constraints_it_is_told(tmp_path):
    cfg = config(tmp_path, ["flops <= 0.3"])
    searcher = build_searcher(cfg)
    assert searcher.uses_constraints
    points = run_tpe(searcher, 40, tell_constraints=True)
    told = [t.constraints for t in searcher.study.trials if t.state.name == "COMPLETE"]
    assert len(told) == 40 and all(set(c) == {"0"} for c in told)
    assert [c["0"] for c in told] == [max(x - 0.3, 0.0) for x in points]
    blind = run_tpe(build_searcher(cfg), 40, tell_constraints=False)   # the same TPE, told no constraints
    near_edge = sum(abs(x - 0.3) < 0.1 for x in points[20:])
    assert near_edge >= 8 and sum(abs(x - 0.3) < 0.1 for x in blind[20:]) <= 2, (points[20:], blind[20:])
    assert max(x for x in points if x <= 0.3) > 0.27      # it finds the feasible optimum's edge
