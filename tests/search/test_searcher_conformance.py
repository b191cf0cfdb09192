"""The searcher conformance suite (gml.testing.searchers) over every built-in searcher, and the behaviour only
some of them promise (uniform coverage, grid order, batch bundles).

To add a built-in searcher, add a ``SearcherCase`` to SEARCHER_CASES.
"""
import random

import pytest

from gml.registry import SEARCHERS
from gml.search.searchers import RandomSearcher
from gml.search.space.parse import parse_search_args
from gml.testing.searchers import GRID_ARGS, MIXED_ARGS, SearcherCase, SearcherSuite, drive

BATCH_ARGS = [{"type": "Nested", "data": [{"lr": 0.1, "bs": 32}, {"lr": 0.01, "bs": 64}, {"lr": 0.001, "bs": 128},
                                          {"lr": 0.5, "bs": 16}]}]

SEARCHER_CASES = [
    SearcherCase("GridSearcher", GRID_ARGS, uses_seed=False),
    SearcherCase("BatchSearcher", BATCH_ARGS, uses_seed=False),
    SearcherCase("RandomSearcher", MIXED_ARGS),
    # model-based (tests/search/test_searchers_model_based.py has their own tests); kept small for speed
    SearcherCase("SkoptSearcher", MIXED_ARGS, {"n_initial_points": 5, "acq_optimizer": "sampling",
                                               "acq_optimizer_kwargs": {"n_points": 500}}),
    SearcherCase("EvolutionSearcher", MIXED_ARGS, {"population_size": 6}),
    SearcherCase("NASEvolutionSearcher", MIXED_ARGS, {"population_size": 6, "generations": 40, "num_parents": 3,
                                                      "num_mutation": 3, "num_crossover": 3}),
    SearcherCase("TPESearcher", MIXED_ARGS, {"n_startup_trials": 5}),
    SearcherCase("NSGA2Searcher", MIXED_ARGS, {"population_size": 6}),   # one objective here
    # a GP over the mixed space costs ~1-2 s CPU a suggestion: marked slow (still run)
    pytest.param(SearcherCase("GPSearcher", MIXED_ARGS, {"n_startup_trials": 5}), marks=pytest.mark.slow),
    SearcherCase("CMAESSearcher", MIXED_ARGS),
]


class TestBuiltinSearchers(SearcherSuite):
    @pytest.fixture(params=SEARCHER_CASES, ids=lambda c: c.name if isinstance(c, SearcherCase) else None)
    def searcher_case(self, request):
        return request.param


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


# -- the suite as a user runs it: an unregistered class named in the fixture --------------------------------
class UserRandomSearcher(RandomSearcher):
    """A user's searcher (not registered): the suite builds it from the class."""


class TestAUserSearcher(SearcherSuite):
    @pytest.fixture
    def searcher_case(self):
        return SearcherCase(UserRandomSearcher, kwargs={"max_attempts": 200})


def test_the_suite_catches_a_searcher_that_repeats_points():
    class Repeating(RandomSearcher):
        def suggest(self):
            return self.space.sample(random.Random(0))      # the same point every time

    with pytest.raises(AssertionError, match="proposed twice"):
        TestAUserSearcher().test_points_are_valid_and_never_repeat(SearcherCase(Repeating))
