"""One space model: a supernet's search_space leaves parse into the HPO side's dimensions."""
import random

import pytest

from gml.errors import GmlConfigError
from gml.models.space import choice_of, flat_space, parse_leaf, parse_space, point_of
from gml.search.space.dimensions import Categorical, Int, Real
from gml.search.space.encoding import OptunaEncoding
from gml.search.space.parse import parse_search_args

LEAVES = [dict(type="Categorical", data=[24, 16, 32]),
          dict(type="Int", lower=32, upper=97, step=8),
          dict(type="Int", data=[1, 4]),
          dict(type="Real", lower=0.5, upper=1.0, step=0.25)]


@pytest.mark.parametrize("leaf", LEAVES)
def test_the_same_leaf_parses_to_the_same_dimension_in_hpo_and_nas(leaf):
    hpo = parse_search_args([dict(leaf, name="w")]).dimension("w")
    nas = parse_leaf(leaf, "w")
    assert nas.dimension == hpo
    assert list(nas.values) == sorted(hpo.grid())


def test_nas_view_and_errors_name_the_path():
    leaf = parse_leaf(dict(type="Int", lower=32, upper=97, step=8, default=64), "backbone.search_space.w[0]")
    assert isinstance(leaf.dimension, Int) and leaf.values == tuple(range(32, 97, 8))
    assert (leaf.min, leaf.max, leaf.default) == (32, 96, 64)
    fixed = parse_leaf(3, "x")
    assert isinstance(fixed.dimension, Categorical) and fixed.is_fixed
    with pytest.raises(GmlConfigError, match=r"backbone.w\[1\].default: 5 is not one of"):
        parse_leaf(dict(type="Categorical", data=[1, 2], default=5), "backbone.w[1]")
    with pytest.raises(GmlConfigError, match=r"^b.d.stepp: unknown key for Int"):
        parse_leaf(dict(type="Int", lower=1, upper=3, stepp=1), "b.d")
    with pytest.raises(GmlConfigError, match="b.r: a Real arg is continuous"):
        parse_leaf(dict(type="Real", lower=0.5, upper=1.0), "b.r")
    assert isinstance(parse_leaf(LEAVES[3], "r").dimension, Real)


def test_flat_space_keys_points_and_encoding_round_trip():
    space = {"backbone": parse_space({"w": [LEAVES[0], 8], "d": LEAVES[1]}, "model.backbone.search_space"),
             "resize_process": {"resolution": parse_leaf(dict(type="Categorical", data=[12, 16]), "res")}}
    flat = flat_space(space)
    assert flat.keys == ["backbone.w[0]", "backbone.w[1]", "backbone.d", "resize_process.resolution"]
    assert flat.sources["backbone.w[0]"] == "model.backbone.search_space.w[0]"
    rng = random.Random(0)
    for _ in range(20):
        point = flat.sample(rng)
        choice = choice_of(space, point)
        assert choice["backbone"]["w"][1] == 8 and point_of(space, choice) == point
        encoding = OptunaEncoding(flat)
        assert encoding.decode(encoding.encode(point)) == point
