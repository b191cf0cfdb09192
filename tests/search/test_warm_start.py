"""Warm-start configurations (searcher.initial_points, search-ctl enqueue's --params) become points of the space,
the same configuration as a searcher's own proposal of it; every mistake names its key path."""
import copy

import pytest

from gml.errors import GmlConfigError
from gml.search.config.build import build_searcher
from gml.search.config.search_config import parse_search_config
from gml.search.space.dimensions import canonical_key
from gml.search.warm_start import parse_cli_params, point_from_params

SPACE = [
    {"type": "Categorical", "name": "bs", "data": [1024, 512, "auto"]},
    {"type": "Real", "name": "lr", "data": [0.0001, 0.1], "log": True},
    {"type": "Real", "name": "wd", "data": [0.0, 0.5], "step": 0.1},
    {"type": "Int", "name": "epochs", "lower": 2, "upper": 10, "step": 2},
    {"type": "Nested", "data": [{"m": 0.5, "nest": True}, {"m": 1, "nest": False}]},
    {"type": "File", "name": "config", "file": "config.yaml",
     "search_args": [{"type": "Categorical", "name": "depth", "data": [18, 34]}]},
]
TEMPLATE = "python train.py --config {config} --bs {bs} --lr {lr} --wd {wd} --e {epochs} --m {m} --n {nest}"
GOOD = {"bs": 512, "lr": 0.01, "wd": 0.2, "epochs": 4, "m": 1, "nest": False, "config(depth)": 34}


@pytest.fixture
def project(tmp_path):
    (tmp_path / "config.yaml").write_text("depth: 18\n")
    return tmp_path


def config(project, initial_points, searcher="RandomSearcher"):
    raw = {"task": {"template": TEMPLATE, "search_args": copy.deepcopy(SPACE)},
           "searcher": {"type": searcher, "initial_points": initial_points}}
    return parse_search_config(raw, str(project))


def test_initial_points_become_points_equal_to_the_searchers_own(project):
    cfg = config(project, [GOOD, dict(GOOD, bs="auto", lr=1e-4, wd=0, epochs=10.0, m=0.5, nest=True)])
    first, second = cfg.searcher.initial_points
    assert first == {"bs": 512, "lr": 0.01, "wd": 0.2, "epochs": 4, "nested4": {"m": 1, "nest": False},
                     "config(depth)": 34}
    assert cfg.space.contains(first) and cfg.space.contains(second)
    assert second["wd"] == 0.0 and isinstance(second["wd"], float) and second["epochs"] == 10
    assert cfg.space.params(second)["m"] == 0.5
    # the grid's own value of wd 0.3 is the same configuration as an initial point wd: 0.3
    grid_point = dict(first, wd=cfg.space.dimension("wd").grid()[3])
    typed = point_from_params(cfg.space, dict(GOOD, wd=0.30000000000000004), "p")
    assert canonical_key(typed) == canonical_key(grid_point)
    assert "initial_points" not in cfg.searcher.kwargs
    build_searcher(cfg)       # the searcher is not handed the key


@pytest.mark.parametrize("change, path, words", [
    ({"lr": 0.5}, "searcher.initial_points[1].lr", "a number in [0.0001, 0.1]"),
    ({"epochs": 3}, "searcher.initial_points[1].epochs", "on steps of 2"),
    ({"epochs": True}, "searcher.initial_points[1].epochs", "an integer"),
    ({"bs": 256}, "searcher.initial_points[1].bs", "one of 1024, 512, 'auto'"),
    ({"wd": 0.25}, "searcher.initial_points[1].wd", "on steps of 0.1"),
    ({"m": 2}, "searcher.initial_points[1]", "not one of the Nested arg's bundles"),
    ({"nest": True}, "searcher.initial_points[1]", "not one of the Nested arg's bundles"),
    ({"momentum": 0.9}, "searcher.initial_points[1].momentum", "not a searched arg; args: bs, lr, wd"),
    ({"config(width)": 3}, "searcher.initial_points[1].config(width)", "not a searched arg"),
])
def test_a_bad_initial_point_names_its_key_path(project, change, path, words):
    with pytest.raises(GmlConfigError) as err:
        config(project, [GOOD, dict(GOOD, **change)])
    assert err.value.path == path and words in err.value.message


def test_missing_args_repeats_and_shapes_are_config_errors(project):
    missing = dict(GOOD)
    del missing["lr"]
    cases = [([missing], "searcher.initial_points[0].lr", "is missing"),
             ([{k: v for k, v in GOOD.items() if k not in ("m", "nest")}], "searcher.initial_points[0]",
              "missing m, nest"),
             ([GOOD, dict(GOOD)], "searcher.initial_points[1]", "repeats searcher.initial_points[0]"),
             ({"lr": 0.1}, "searcher.initial_points", "a list of configurations"),
             ([[0.1]], "searcher.initial_points[0]", "a mapping")]
    for points, path, words in cases:
        with pytest.raises(GmlConfigError) as err:
            config(project, points)
        assert err.value.path == path and words in err.value.message, (points, str(err.value))


def test_command_line_params_are_read_as_yaml_scalars_and_matched_by_text(project):
    space = config(project, []).space
    params = parse_cli_params(["bs=auto", "lr=1e-3", "wd=0.2", "epochs=6", "m=1", "nest=false", "config(depth)=18"])
    assert params["lr"] == "1e-3" and params["nest"] is False     # YAML 1.1 reads 1e-3 as text
    point = point_from_params(space, params, "--params")
    assert point["lr"] == 0.001 and point["bs"] == "auto" and point["nested4"] == {"m": 1, "nest": False}
    assert point_from_params(space, dict(params, bs="512"), "--params")["bs"] == 512
    for items, message in ((["lr"], "NAME=VALUE"), (["lr=1", "lr=2"], "given twice"), (["=3"], "NAME=VALUE")):
        with pytest.raises(GmlConfigError, match=message):
            parse_cli_params(items)
    with pytest.raises(GmlConfigError) as err:
        point_from_params(space, dict(params, lr="fast"), "--params")
    assert err.value.path == "--params lr" and "'fast'" in err.value.message


def test_a_categorical_number_typed_as_text_is_that_choice(project):
    """``--params wd=1e-4``: YAML reads '1e-4' (no dot) as text; a numeric choice it equals is meant."""
    raw = {"task": {"template": "python train.py --wd {wd} --act {act}",
                    "search_args": [{"type": "Categorical", "name": "wd", "data": [0.0, 0.0001, 0.001]},
                                    {"type": "Categorical", "name": "act", "data": ["relu", "1e3"]}]},
           "searcher": {"type": "RandomSearcher"}}
    space = parse_search_config(raw, str(project)).space
    params = parse_cli_params(["wd=1e-4", "act=1e3"])
    assert params["wd"] == "1e-4"                 # what YAML made of it
    point = point_from_params(space, params, "--params")
    assert point["wd"] == 0.0001 and isinstance(point["wd"], float)
    assert point["act"] == "1e3"                  # a text choice spelled the same stays that text
    with pytest.raises(GmlConfigError, match=r"^--params wd: expected one of 0.0, 0.0001, 0.001, got '2e-4'$"):
        point_from_params(space, parse_cli_params(["wd=2e-4", "act=relu"]), "--params")
