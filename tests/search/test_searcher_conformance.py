"""One conformance suite for every searcher: valid points only, no duplicates, determinism under a seed,
failed jobs tolerated, and resume by replaying the store.

To add a searcher, add a ``SearcherCase`` to SEARCHER_CASES.
"""
import dataclasses
import math
import random
from dataclasses import dataclass, field

import pytest

from gml.registry import SEARCHERS
from gml.search import searchers  # noqa: F401  (registers the built-ins)
from gml.search.space.parse import parse_search_args
from gml.search.space.dimensions import canonical_key

MIXED_ARGS = [
    {"type": "Categorical", "name": "opt", "data": ["sgd", "adam", "it's; rm -rf /"]},
    {"type": "Int", "name": "epochs", "data": [2, 10], "step": 2},
    {"type": "Real", "name": "lr", "data": [0.001, 0.1], "log": True},
    {"type": "Real", "name": "momentum", "data": [0.5, 0.9]},
    {"type": "Nested", "data": [{"wd": 0.0001, "bs": 64}, {"wd": 0.001, "bs": 128}]},
    {"type": "File", "name": "config", "file": "c.yaml", "search_args": [
        {"type": "Categorical", "name": "model.depth", "data": [18, 34]},
        {"type": "Nested", "data": [{"sched.step": 1, "sched.gamma": 0.5}, {"sched.step": 2, "sched.gamma": 0.7}]},
    ]},
]
GRID_ARGS = [a if a.get("type") != "Real" else dict(a, step=0.1, log=False, data=[0.5, 0.9])
             for a in MIXED_ARGS if a.get("name") != "lr"]
BATCH_ARGS = [{"type": "Nested", "data": [{"lr": 0.1, "bs": 32}, {"lr": 0.01, "bs": 64}, {"lr": 0.001, "bs": 128},
                                          {"lr": 0.5, "bs": 16}]}]


@dataclass
class SearcherCase:
    name: str
    args: list
    kwargs: dict = field(default_factory=dict)
    deterministic: bool = True      # same seed -> same sequence
    uses_seed: bool = True
    slow: bool = False              # marked slow (still run): e.g. a GP over a mixed space, ~1-2 s CPU a suggestion


SEARCHER_CASES = [
    SearcherCase("GridSearcher", GRID_ARGS, uses_seed=False),
    SearcherCase("BatchSearcher", BATCH_ARGS, uses_seed=False),
    SearcherCase("RandomSearcher", MIXED_ARGS),
    # model-based (tests/search/test_searchers_model_based.py has their own tests); kept small for speed
    SearcherCase("SkoptSearcher", MIXED_ARGS, {"n_initial_points": 5, "acq_optimizer": "sampling",
                                               "acq_optimizer_kwargs": {"n_points": 500}}),
    SearcherCase("EvolutionSearcher", MIXED_ARGS, {"population_size": 6}),
    SearcherCase("TPESearcher", MIXED_ARGS, {"n_startup_trials": 5}),
    SearcherCase("GPSearcher", MIXED_ARGS, {"n_startup_trials": 5}, slow=True),
    SearcherCase("CMAESSearcher", MIXED_ARGS),
]


def objective(point):
    """A smooth toy objective over the mixed space (larger is better)."""
    params = point
    x = 0.0
    for key, value in sorted(params.items()):
        if isinstance(value, dict):
            value = sum(v for v in value.values() if isinstance(v, (int, float)))
        if isinstance(value, (int, float)):
            x += math.sin(float(value) * 3.1 + len(key))
        else:
            x += len(str(value)) / 10
    return x


def build(case, mode="maximize", seed=0):
    space = parse_search_args(case.args)
    kwargs = dict(case.kwargs)
    if case.uses_seed:
        kwargs["seed"] = seed
    return SEARCHERS.build({"type": case.name, **kwargs}, "searcher", space=space, optimize_mode=mode)


def drive(searcher, n, mode="maximize", fail_every=0, rng=None):
    """Run the controller's protocol: suggest, mark_issued, observe (sometimes as failed). Returns the history."""
    history = []
    for i in range(n):
        point = searcher.suggest()
        if point is None:
            break
        searcher.mark_issued(point)
        reward = objective(point) if mode == "maximize" else -objective(point)
        if fail_every and i % fail_every == fail_every - 1:
            reward = None
        searcher.observe(point, reward)
        history.append((point, reward, True))
    return history


@pytest.fixture(params=[pytest.param(c, id=c.name, marks=[pytest.mark.slow] if c.slow else []) for c in SEARCHER_CASES])
def case(request):
    return request.param


def test_points_are_valid_and_never_repeat(case):
    searcher = build(case)
    history = drive(searcher, 40)
    assert history, "the searcher proposed nothing"
    keys = set()
    for point, _, _ in history:
        assert searcher.space.contains(point), point
        keys.add(canonical_key(point))
    assert len(keys) == len(history)


SMALL_FINITE_ARGS = [
    {"type": "Categorical", "name": "opt", "data": ["sgd", "adam"]},
    {"type": "Int", "name": "epochs", "data": [1, 3]},
    {"type": "Real", "name": "m", "data": [0.5, 0.6], "step": 0.1},
    {"type": "Nested", "data": [{"wd": 0.1}, {"wd": 0.2}]},
]


def test_finite_space_is_exhausted_exactly_once(case):
    """Every point once, then None. Searchers whose suite space is continuous run on a small finite one."""
    searcher = build(case)
    if searcher.space.size() is None or searcher.space.size() > 1000:
        searcher = build(dataclasses.replace(case, args=SMALL_FINITE_ARGS))
    size = searcher.space.size()
    history = drive(searcher, size + 10)
    assert len(history) == (size if case.name != "BatchSearcher" else len(BATCH_ARGS[0]["data"]))
    assert searcher.suggest() is None


def test_same_seed_same_sequence(case):
    if not case.deterministic:
        pytest.skip(f"{case.name} is not deterministic under a seed")
    first = [canonical_key(p) for p, _, _ in drive(build(case, seed=7), 15)]
    second = [canonical_key(p) for p, _, _ in drive(build(case, seed=7), 15)]
    assert first == second


@pytest.mark.parametrize("mode", ["maximize", "minimize"])
def test_failed_and_nan_rewards_are_tolerated(case, mode):
    searcher = build(case, mode=mode)
    drive(searcher, 12, mode=mode, fail_every=3)
    point = searcher.suggest()
    if point is not None:
        searcher.mark_issued(point)
        searcher.observe(point, float("nan"))
    assert searcher.score(None) is None and searcher.score(float("nan")) is None
    assert searcher.score(2.0) == (2.0 if mode == "maximize" else -2.0)


def test_pending_points_are_not_proposed_again(case):
    """Several suggestions in a row before any result (parallel slots) are all distinct."""
    searcher = build(case)
    pending = []
    for _ in range(4):
        point = searcher.suggest()
        if point is None:
            break
        searcher.mark_issued(point)
        pending.append(canonical_key(point))
    assert len(set(pending)) == len(pending) >= 1


def test_resume_by_replay_continues_without_repeats(case):
    first = build(case, seed=3)
    history = drive(first, 8, fail_every=4)
    # one job was still running when the controller died: it is in the store, not finished
    running = first.suggest()
    if running is not None:
        first.mark_issued(running)
        history.append((running, None, False))
    resumed = build(case, seed=3)
    resumed.restore(history)
    seen = {canonical_key(p) for p, _, _ in history}
    for point, _, _ in drive(resumed, 10):
        assert canonical_key(point) not in seen
        assert resumed.space.contains(point)
        seen.add(canonical_key(point))


def test_unknown_keyword_is_refused_with_the_valid_ones(case):
    from gml.errors import GmlConfigError
    with pytest.raises(GmlConfigError) as err:
        SEARCHERS.build({"type": case.name, "no_such_option": 1}, "searcher",
                        space=parse_search_args(case.args), optimize_mode="maximize")
    assert "searcher.no_such_option" in str(err.value) and "valid:" in str(err.value)


def test_random_searcher_covers_the_space_uniformly():
    space = parse_search_args([{"type": "Int", "name": "x", "data": [0, 9]}])
    searcher = SEARCHERS.build({"type": "RandomSearcher", "seed": 1}, "searcher", space=space)
    order = [p["x"] for p, _, _ in drive(searcher, 20)]
    assert sorted(order) == list(range(10)) and order != list(range(10))


def test_grid_is_the_cartesian_product_in_order():
    space = parse_search_args([{"type": "Categorical", "name": "a", "data": [1, 2]},
                               {"type": "Real", "name": "b", "data": [0.1, 0.3], "step": 0.1}])
    searcher = SEARCHERS.build({"type": "GridSearcher"}, "searcher", space=space)
    points = [p for p, _, _ in drive(searcher, 10)]
    assert points == [{"a": 1, "b": 0.1}, {"a": 1, "b": 0.2}, {"a": 1, "b": 0.3},
                      {"a": 2, "b": 0.1}, {"a": 2, "b": 0.2}, {"a": 2, "b": 0.3}]


def test_grid_refuses_a_real_without_step_naming_the_arg():
    from gml.errors import GmlConfigError
    space = parse_search_args([{"type": "Categorical", "name": "a", "data": [1]},
                               {"type": "Real", "name": "lr", "data": [0.1, 0.3]}])
    with pytest.raises(GmlConfigError, match=r"task\.search_args\[1\].*step"):
        SEARCHERS.build({"type": "GridSearcher"}, "searcher", space=space)


def test_batch_runs_bundles_in_order_and_refuses_other_args():
    from gml.errors import GmlConfigError
    space = parse_search_args(BATCH_ARGS)
    searcher = SEARCHERS.build({"type": "BatchSearcher"}, "searcher", space=space)
    assert [p["nested0"]["bs"] for p, _, _ in drive(searcher, 10)] == [32, 64, 128, 16]
    with pytest.raises(GmlConfigError, match=r"task\.search_args\[0\].*Nested"):
        SEARCHERS.build({"type": "BatchSearcher"}, "searcher",
                        space=parse_search_args([{"type": "Int", "name": "x", "data": [0, 3]}]))
    with pytest.raises(GmlConfigError, match=r"data\[0\]\.m.*plain values"):
        SEARCHERS.build({"type": "BatchSearcher"}, "searcher",
                        space=parse_search_args([{"type": "Nested", "data": [{"m": [1, 2]}]}]))
