"""Dimensions code, snap and mutate their own values; the Optuna and skopt encodings are adapters over that."""
import random

import pytest

from gml.search.space.dimensions import Categorical, DomainKind, Int, Nested, Real
from gml.search.space.encoding import OptunaEncoding, SkoptEncoding
from gml.search.space.parse import parse_search_args

ARGS = [
    {"type": "Real", "name": "lr", "data": [1e-4, 1e-1], "log": True},
    {"type": "Real", "name": "wd", "data": [0.0, 0.3], "step": 0.05},
    {"type": "Int", "name": "bs", "data": [8, 250], "log": True, "step": 8},
    {"type": "Int", "name": "ep", "data": [1, 20], "step": 3},
    {"type": "Int", "name": "fixed", "data": [4, 4]},
    {"type": "Categorical", "name": "opt", "data": ["sgd", "adam", {"x": 1}]},
    {"type": "Nested", "data": [{"a": 1, "b": 2}, {"a": 3}]},
    {"type": "Nested", "data": [{"c": 1}]},
    {"type": "File", "name": "cfg", "file": "x.yaml", "search_args": [{"type": "Int", "name": "depth", "data": [1, 5]}]},
]


def test_each_dimension_describes_its_domain():
    space = parse_search_args(ARGS)
    domains = {d.key: d.domain for d in space.dimensions}
    assert domains["lr"].kind is DomainKind.REAL and domains["lr"].log and domains["lr"].step is None
    assert (domains["wd"].low, domains["wd"].high, domains["wd"].step) == (0.0, 0.3, 0.05)
    assert (domains["bs"].kind, domains["bs"].low, domains["bs"].high) == (DomainKind.INT, 8, 248)   # the top
    assert (domains["ep"].low, domains["ep"].high, domains["ep"].step) == (1, 19, 3)
    assert domains["fixed"].is_constant and domains["nested7"].is_constant
    assert (domains["opt"].kind, domains["opt"].low, domains["opt"].high) == (DomainKind.CHOICE, 0, 2)
    assert domains["cfg(depth)"].high == 5


def test_both_encodings_round_trip_every_point_and_refuse_foreign_ones():
    from optuna.trial import create_trial
    space = parse_search_args(ARGS)
    optuna_enc, skopt_enc = OptunaEncoding(space), SkoptEncoding(space)
    assert set(optuna_enc.distributions) == set(space.keys)                       # every dimension
    assert [d.key for d in skopt_enc.free] == ["lr", "wd", "bs", "ep", "opt", "nested6", "cfg(depth)"]
    assert skopt_enc.constants == {"fixed": 4, "nested7": {"c": 1}}                # held aside for skopt
    rng = random.Random(0)
    for _ in range(300):
        point = space.sample(rng)
        params = optuna_enc.encode(point)
        create_trial(params=params, distributions=optuna_enc.distributions, value=0.0)   # refuses foreign params
        assert optuna_enc.decode(params) == point
        x = skopt_enc.encode(point)
        assert len(x) == len(skopt_enc.dimensions) and all(v in dim for v, dim in zip(x, skopt_enc.dimensions))
        assert skopt_enc.decode(x) == point
    foreign = dict(space.sample(rng), ep=2)                                       # off the step grid
    assert optuna_enc.encode(foreign) is None and skopt_enc.encode(foreign) is None


def test_distributions_follow_step_and_log():
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    dists = OptunaEncoding(parse_search_args(ARGS)).distributions
    assert isinstance(dists["opt"], CategoricalDistribution) and list(dists["opt"].choices) == [0, 1, 2]
    assert dists["bs"] == IntDistribution(8, 248, log=True)           # Optuna cannot step a log range: snapped
    assert dists["ep"] == IntDistribution(1, 19, step=3)
    assert dists["wd"] == FloatDistribution(0.0, 0.3, step=0.05)
    assert dists["lr"] == FloatDistribution(1e-4, 1e-1, log=True)


def test_decode_snaps_to_the_grid_and_clips_to_the_bounds():
    assert Int("n", 1, 20, 3).decode(100) == 19 and Int("n", 1, 20, 3).decode(5.2) == 4
    assert Int("n", 8, 250, 8, True).decode(13) == 16
    assert Real("w", 0.0, 0.3, 0.05).decode(0.26) == 0.25 and Real("w", 0.0, 0.3, 0.05).decode(-1) == 0.0
    assert Real("r", 0.5, 2.0).decode(3.0) == 2.0
    nested = Nested("n", ({"a": 1}, {"a": 2}))
    first, again = nested.decode(0), nested.decode(0)
    assert first == {"a": 1} and first is not again and first is not nested.choices[0]


@pytest.mark.parametrize("dim", [Int("i", 1, 20, 3), Int("j", 8, 256, 8, True), Real("r", 0.0, 1.0),
                                 Real("l", 1e-4, 1e-1, None, True), Real("s", 0.0, 0.3, 0.05),
                                 Categorical("c", ("a", "b", {"x": 1})), Nested("n", ({"a": 1}, {"a": 2}))],
                         ids=lambda d: d.key)
def test_mutation_stays_in_the_dimension_and_moves(dim):
    rng = random.Random(1)
    value = dim.sample(rng)
    moved = 0
    for _ in range(200):
        child = dim.mutate(value, rng, 0.15)
        assert dim.contains(child), child
        moved += dim.encode(child) != dim.encode(value)
        value = child
    assert moved > 100
    if isinstance(dim, (Categorical, Nested)):                 # a choice always switches to another one
        assert all(dim.mutate(dim.choice(0), rng, 0.15) != dim.choice(0) for _ in range(20))


def test_single_valued_dimensions_do_not_mutate():
    rng = random.Random(0)
    assert Categorical("c", ("only",)).mutate("only", rng, 0.5) == "only"
    assert Int("i", 3, 3).mutate(3, rng, 0.5) == 3 and Real("r", 1.0, 1.0).mutate(1.0, rng, 0.5) == 1.0


def test_param_names_name_every_arg_a_dimension_sets():
    space = parse_search_args(ARGS)
    assert space.dimension("nested6").param_names() == ["a", "b"]
    assert space.dimension("cfg(depth)").param_names() == ["cfg(depth)"]
    inner = parse_search_args([{"type": "File", "name": "cfg", "file": "x.yaml",
                                "search_args": [{"type": "Nested", "data": [{"a": 1}]}]}])
    assert inner.dimensions[0].param_names() == ["cfg(a)"]
    assert space.arg_names()[-1] == "cfg"
