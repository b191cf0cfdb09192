"""The validation convention: '<key path>: expected <what>, got <value>'; class keywords get the builder's prefix."""
import math

import pytest

from gml.errors import GmlConfigError
from gml.registry import Registry
from gml.validation import (Keyword, KeywordError, boolean, integer, invalid, mapping, nearest, nearest_hint, number,
                            one_of, string)


@pytest.mark.parametrize("check,message", [
    (lambda: integer("a.n", True, least=1), "a.n: expected an integer >= 1, got True"),
    (lambda: integer("a.n", 1.0), "a.n: expected an integer, got 1.0"),
    (lambda: integer("a.n", 0, least=1), "a.n: expected an integer >= 1, got 0"),
    (lambda: integer("a.n", 11, least=1, most=10), "a.n: expected an integer in [1, 10], got 11"),
    (lambda: number("a.x", "3"), "a.x: expected a number, got '3'"),
    (lambda: number("a.x", math.nan), "a.x: expected a number, got nan"),
    (lambda: number("a.x", 0, above=0, what="seconds"), "a.x: expected seconds > 0, got 0"),
    (lambda: number("a.p", 1.5, least=0, most=1), "a.p: expected a number in [0, 1], got 1.5"),
    (lambda: boolean("a.b", "yes"), "a.b: expected true or false, got 'yes'"),
    (lambda: one_of("a.m", "max", ("maximize", "minimize")), "a.m: expected one of maximize, minimize, got 'max'"),
    (lambda: mapping("a.e", [1]), "a.e: expected a mapping, got [1]"),
    (lambda: string("a.s", "  "), "a.s: expected a non-empty string, got '  '"),
])
def test_each_helper_names_path_value_and_expectation(check, message):
    with pytest.raises(GmlConfigError) as err:
        check()
    assert str(err.value) == message and not isinstance(err.value, KeywordError)


def test_helpers_return_good_values_and_let_none_through_when_optional():
    assert integer("n", 3, least=1) == 3 and number("x", 2.5, above=0) == 2.5 and number("x", math.inf) == math.inf
    assert boolean("b", False) is False and one_of("m", "a", ("a",)) == "a" and string("s", " x ") == "x"
    assert integer("n", None, optional=True) is None and mapping("e", None, optional=True) is None
    with pytest.raises(GmlConfigError, match="got None"):
        integer("n", None)


def test_a_keyword_error_gets_the_builders_prefix():
    with pytest.raises(KeywordError) as err:
        integer(Keyword("size"), 0, least=1)
    assert err.value.path == "size"
    assert str(err.value.under("searcher")) == "searcher.size: expected an integer >= 1, got 0"
    assert str(invalid(Keyword(""), 1, "x").under("searcher")) == "searcher: expected x, got 1"

    things = Registry("thing")

    @things.register_module()
    class Thing:
        def __init__(self, size: int = 1, where: str = "here"):
            integer(Keyword("size"), size, least=1)
            if where != "here":
                raise GmlConfigError("task.where", "an absolute path is kept as it is")

    with pytest.raises(GmlConfigError) as err:
        things.build({"type": "Thing", "size": 0}, "scheduler.custom[2]")
    assert str(err.value) == "scheduler.custom[2].size: expected an integer >= 1, got 0"
    with pytest.raises(GmlConfigError, match=r"^task\.where: an absolute path"):
        things.build({"type": "Thing", "where": "there"}, "scheduler.custom[2]")


def test_nearest_names_a_misspelt_name_and_nothing_for_a_far_one():
    modules = ["", "backbone", "backbone.layer1", "backbone.layer3", "backbone.layer4", "head.fc"]
    assert nearest("backbone.layr3", modules)[0] == "backbone.layer3"
    assert "" not in nearest("backbone", modules)
    assert nearest_hint("head.fcc", modules) == "; nearby names: head.fc"
    assert nearest_hint("KLDivergence", ["KLDivergenceLoss"], shown=lambda n: "gml." + n) == \
        "; nearby names: gml.KLDivergenceLoss"
    assert nearest_hint("zzz", modules) == ""
