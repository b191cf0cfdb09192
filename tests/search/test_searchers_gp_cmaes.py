"""GPSearcher and CMAESSearcher beyond the shared conformance suite and test_searchers_model_based.py: what the
GP's study holds (failed jobs at the worst score, pending points as running trials, the window), parallel slots
that differ because of those running trials, CMA-ES's warm-started resume, and their YAML keywords."""
import math
import random

import pytest

from gml.errors import GmlConfigError
from gml.registry import SEARCHERS
from gml.search import searchers  # noqa: F401  (registers the built-ins)
from gml.search.space.dimensions import canonical_key
from gml.search.space.parse import parse_search_args

QUAD = [{"type": "Real", "name": "x", "data": [0.0, 1.0]}, {"type": "Real", "name": "y", "data": [0.0, 1.0]}]


def quad(point):
    return (point["x"] - 0.3) ** 2 + (point["y"] - 0.7) ** 2


def build(kind, mode="minimize", seed=1, args=QUAD, **kwargs):
    return SEARCHERS.build({"type": kind, "seed": seed, **kwargs}, "searcher", space=parse_search_args(args),
                           optimize_mode=mode)


def run(searcher, n, f=quad, fail=lambda point: False):
    history = []
    for _ in range(n):
        point = searcher.suggest()
        searcher.mark_issued(point)
        reward = None if fail(point) else f(point)
        searcher.observe(point, reward)
        history.append((point, reward, True))
    return history


def distance(a, b):
    return math.hypot(a["x"] - b["x"], a["y"] - b["y"])


def test_gp_study_holds_scores_failures_at_the_worst_and_pending_points():
    from optuna.trial import TrialState
    searcher = build("GPSearcher", n_startup_trials=4)
    history = run(searcher, 10, fail=lambda p: p["x"] > 0.7)
    running = searcher.suggest()
    searcher.mark_issued(running)
    study = searcher._study()
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    assert len(complete) == 10
    worst = max(r for _, r, _ in history if r is not None)          # minimize: the largest loss is the worst
    by_key = {canonical_key(searcher.encoding.decode(t.params)): t.value for t in complete}
    for point, reward, _ in history:
        expected = -(reward if reward is not None else worst)        # the study maximises the score
        assert by_key[canonical_key(point)] == pytest.approx(expected)
    assert any(r is None for _, r, _ in history)
    [pending] = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    assert searcher.encoding.decode(pending.params) == running


def test_gp_parallel_slots_differ_because_pending_points_are_running_trials():
    """Without the running trials the GP proposes the same point twice (the acquisition optimum); with the first
    slot pending, the second slot's point is clearly elsewhere."""
    searcher = build("GPSearcher", n_startup_trials=6)
    run(searcher, 12)
    first = searcher.suggest()
    again = searcher.suggest()                        # not marked issued: the GP does not know it runs
    assert distance(first, again) < 1e-3
    searcher.mark_issued(first)
    second = searcher.suggest()
    searcher.mark_issued(second)
    third = searcher.suggest()
    assert min(distance(first, second), distance(first, third), distance(second, third)) > 5e-3
    assert len(searcher._obs.pending()) == 2


def test_gp_window_bounds_what_the_model_sees():
    from optuna.trial import TrialState
    searcher = build("GPSearcher", max_model_points=30, max_pending=2)
    rng = random.Random(0)
    points = [{"x": rng.random(), "y": rng.random()} for _ in range(200)]
    searcher.restore([(p, quad(p), True) for p in points])
    for p in ({"x": 0.1, "y": 0.1}, {"x": 0.2, "y": 0.2}, {"x": 0.9, "y": 0.9}):
        searcher.mark_issued(p)
    study = searcher._study()
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    assert len(complete) == 30
    best15 = sorted(quad(p) for p in points)[:15]
    assert sorted(-t.value for t in complete)[:15] == pytest.approx(best15)     # the best half
    assert searcher.encoding.decode(complete[-1].params) == points[-1]            # and the most recent
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    assert [searcher.encoding.decode(t.params) for t in running] == [{"x": 0.2, "y": 0.2}, {"x": 0.9, "y": 0.9}]
    point = searcher.suggest()
    assert searcher.space.contains(point) and not searcher.is_issued(point)


def test_cmaes_failures_rank_last_and_slots_differ():
    from optuna.trial import TrialState
    searcher = build("CMAESSearcher", mode="maximize", popsize=4)
    history = run(searcher, 12, f=lambda p: p["x"], fail=lambda p: p["x"] > 0.5)
    assert searcher.study.best_trial.params["x"] <= 0.5
    told = {canonical_key(searcher.encoding.decode(t.params)): t.value
            for t in searcher.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
    worst, checked = None, 0
    for point, reward, _ in history:     # a failure is told the worst score seen before it (if any)
        if reward is None and worst is not None:
            assert told[canonical_key(point)] == worst
            checked += 1
        elif reward is not None:
            worst = reward if worst is None else min(worst, reward)
    assert checked >= 1
    slots = []
    for _ in range(3):
        slots.append(searcher.suggest())
        searcher.mark_issued(slots[-1])
    assert len({canonical_key(p) for p in slots}) == 3
    assert len(searcher.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))) == 3


def test_cmaes_resume_warm_starts_from_the_best_replayed_points():
    """Restored after 40 random points, CMA-ES samples around the best of them, not around the centre."""
    rng = random.Random(3)
    points = [{"x": rng.random(), "y": rng.random()} for _ in range(40)]
    history = [(p, quad(p), True) for p in points]
    resumed = build("CMAESSearcher", seed=5)
    resumed.restore(history)
    assert resumed.study.sampler._source_trials is not None
    cold = build("CMAESSearcher", seed=5)
    cold.restore(history[:5])                        # too few for a warm start: CMA-ES starts at the centre
    assert cold.study.sampler._source_trials is None
    warm_points = [p for p, _, _ in run(resumed, 12)]
    cold_points = [p for p, _, _ in run(cold, 12)]
    assert sorted(map(quad, warm_points))[6] < sorted(map(quad, cold_points))[6]
    seen = {canonical_key(p) for p in points}
    assert not seen & {canonical_key(p) for p in warm_points}


def test_cmaes_resume_on_a_mixed_space():
    """Categorical, Nested and one-value args are not CMA-ES's: the warm start uses the numeric ones only."""
    args = [{"type": "Categorical", "name": "act", "data": ["relu", "gelu"]},
            {"type": "Int", "name": "width", "data": [16, 256], "step": 16, "log": True},
            {"type": "Real", "name": "lr", "data": [1e-4, 1.0], "log": True},
            {"type": "Int", "name": "epochs", "data": [3, 3]},
            {"type": "Nested", "data": [{"opt": "sgd"}, {"opt": "adam"}]}]
    space = parse_search_args(args)
    rng = random.Random(0)
    points = [space.sample(rng) for _ in range(30)]
    resumed = build("CMAESSearcher", args=args)
    resumed.restore([(p, math.log10(p["lr"]) + p["width"] / 256, True) for p in points])
    assert resumed.study.sampler._source_trials is not None
    seen = {canonical_key(p) for p in points}
    for point, _, _ in run(resumed, 8, f=lambda p: math.log10(p["lr"])):
        assert space.contains(point) and canonical_key(point) not in seen
        seen.add(canonical_key(point))
    grid = [{"type": "Categorical", "name": name, "data": [1, 2, 3, 4]} for name in ("a", "b")]
    categorical_only = build("CMAESSearcher", args=grid)
    categorical_only.restore([({"a": a, "b": b}, float(a * b), True) for a in (1, 2, 3) for b in (1, 2, 3, 4)])
    assert categorical_only.study.sampler._source_trials is None       # nothing numeric to warm-start
    assert categorical_only.suggest() not in [{"a": a, "b": b} for a in (1, 2, 3) for b in (1, 2, 3, 4)]


@pytest.mark.parametrize("cfg, path", [
    ({"type": "GPSearcher", "n_startup_trials": -1}, "searcher.n_startup_trials"),
    ({"type": "GPSearcher", "max_model_points": 5}, "searcher.max_model_points"),
    ({"type": "GPSearcher", "max_pending": "4"}, "searcher.max_pending"),
    ({"type": "GPSearcher", "deterministic_objective": "yes"}, "searcher.deterministic_objective"),
    ({"type": "CMAESSearcher", "popsize": 1}, "searcher.popsize"),
    ({"type": "CMAESSearcher", "with_margin": 1}, "searcher.with_margin"),
    ({"type": "CMAESSearcher", "use_separable_cma": True, "with_margin": True}, "searcher"),
])
def test_config_errors_name_the_key(cfg, path):
    with pytest.raises(GmlConfigError) as err:
        SEARCHERS.build(cfg, "searcher", space=parse_search_args(QUAD), optimize_mode="maximize")
    assert err.value.path == path, str(err.value)


def test_gp_without_torch_is_a_config_error_naming_the_gp_extra(monkeypatch):
    """The ``searchers`` extra has no torch (a login node installs it without); GPSearcher says what to install.
    torch is installed here, so its absence is simulated: a None entry in sys.modules makes its import fail."""
    monkeypatch.setitem(__import__("sys").modules, "torch", None)
    with pytest.raises(GmlConfigError) as err:
        build("GPSearcher")
    assert err.value.path == "searcher.type"
    assert "GPSearcher needs torch" in err.value.message and "pip install 'gml[gp]'" in err.value.message
    build("TPESearcher")              # the other Optuna searchers need no torch
    build("CMAESSearcher")
