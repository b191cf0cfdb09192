"""Search config validation: each mistake gives one GmlConfigError naming the key path."""
import copy
import os

import pytest
import yaml

from gml.errors import GmlConfigError
from gml.search.config.search_config import load_search_config, parse_search_config
from gml.search.space.dimensions import Int, Nested, Real

BASE = {
    "task": {
        "template": "python train.py --config '{config}' --bs {batch-size} --lr {lr} --epochs {epochs} --m {m}",
        "search_args": [
            {"type": "Categorical", "name": "batch-size", "data": [1024, 512]},
            {"type": "Real", "name": "lr", "data": [0.0001, 0.1], "log": True},
            {"type": "Int", "name": "epochs", "lower": 3, "upper": 10},
            {"type": "Nested", "data": [{"m": 0.5}, {"m": 1}]},
            {"type": "File", "name": "config", "file": "config.yaml",
             "args": [{"type": "Categorical", "name": "epochs", "value": [3, 4, 5]}]},
        ],
    },
    "searcher": {"type": "RandomSearcher", "reward_attribute": "Test Acc", "optimize_mode": "maximize"},
    "scheduler": {"type": "FIFO", "parallel_size": 4,
                  "stop_criterion": {"max_tries": 100, "time_limits": "1h", "max_reward": "inf",
                                     "time_limits_per_job": 1},
                  "assessor": {"type": "MedianStopAssessor", "optimize_mode": "maximize", "start_step": 4}},
    "pavi": {"scalars": ["acc", "loss"]},
    "generate_log": True,
}


@pytest.fixture
def project(tmp_path):
    (tmp_path / "config.yaml").write_text("epochs: 1\nscheduler: {step_size: 1}\n")
    return tmp_path


def parse(raw, project):
    return parse_search_config(raw, str(project))


def test_the_spec_example_parses(project):
    cfg = parse(BASE, project)
    assert cfg.space.keys == ["batch-size", "lr", "epochs", "nested3", "config(epochs)"]
    assert isinstance(cfg.space.dimension("lr"), Real) and cfg.space.dimension("lr").log
    assert cfg.space.dimension("epochs") == Int("epochs", 3, 10, 1, False)
    assert isinstance(cfg.space.dimension("nested3"), Nested)
    assert cfg.searcher.reward_attribute == "Test Acc"
    assert cfg.collected_scalars == ["Test Acc", "acc", "loss"]
    assert cfg.scheduler.parallel_size == 4


def with_change(path, value):
    raw = copy.deepcopy(BASE)
    node = raw
    keys = path.split("/")
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node[k]
    last = keys[-1]
    if value is DELETE:
        if isinstance(node, list):
            del node[int(last)]
        else:
            del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return raw


DELETE = object()

MISTAKES = [
    ("task/search_args/0/type", "Choice", r"task\.search_args\[0\] \(batch-size\)\.type: unknown arg type 'Choice'; valid: Categorical"),
    ("task/search_args/0/name", DELETE, r"task\.search_args\[0\]\.name: a Categorical arg needs a non-empty"),
    ("task/search_args/1/data", [0.1, 0.0001], r"task\.search_args\[1\] \(lr\)\.data: low <= high must hold, but got low=0\.1, high=0\.0001"),
    ("task/search_args/1/data", [0.1], r"task\.search_args\[1\] \(lr\)\.data: expected \[low, high\] for Real, got \[0\.1\]$"),
    ("task/search_args/1/data", ["a", 1], r"^task\.search_args\[1\] \(lr\)\.data\[0\]: expected a number, got 'a'$"),
    ("task/search_args/2/lower", 3.5, r"^task\.search_args\[2\] \(epochs\)\.lower: expected an integer, got 3\.5$"),
    ("task/search_args/0/data", [], r"task\.search_args\[0\] \(batch-size\)\.data: expected a non-empty list"),
    ("task/search_args/0/data", 5, r"task\.search_args\[0\] \(batch-size\)\.data: expected a non-empty list of "
                                   r"choices, got 5$"),
    ("task/search_args/0/colour", "red", r"task\.search_args\[0\] \(batch-size\)\.colour: unknown key for Categorical; valid:"),
    ("task/search_args/3/data", [{"m": 1}, "x"], r"task\.search_args\[3\]\.data\[1\]: expected a non-empty mapping"),
    ("task/search_args/4/file", "missing.yaml", r"task\.search_args\[4\] \(config\)\.file: file '.*missing\.yaml' does not exist"),
    ("task/search_args/4/file", "config.txt", r"task\.search_args\[4\] \(config\)\.file: unsupported file type"),
    ("task/search_args/1/log", "yes", r"^task\.search_args\[1\] \(lr\)\.log: expected true or false, got 'yes'$"),
    ("task/template", "python train.py --bs {batch-size} --lr {lr} --epochs {epochs} --m {m} --c {config} --x {nope}",
     r"task\.template: placeholder \{nope\} has no arg"),
    ("task/template", "python train.py --lr {lr} --epochs {epochs} --m {m} --c {config}",
     r"task\.search_args\[0\] \(batch-size\): arg 'batch-size' is never used in task\.template"),
    ("task/template", "python train.py '--lr {lr}", r"task\.template: unbalanced single quote"),
    ("task/template", 42, r"task\.template: expected a non-empty command string"),
    ("task/search_args", [], r"task\.search_args: expected a non-empty list"),
    ("task/template", DELETE, r"task\.template: is required"),
    ("searcher/optimize_mode", "max", r"searcher\.optimize_mode: expected one of maximize, minimize, got 'max'"),
    ("scheduler/parallel_size", 0, r"^scheduler\.parallel_size: expected an integer >= 1, got 0$"),
    ("scheduler/parallel_size", "4", r"^scheduler\.parallel_size: expected an integer >= 1, got '4'$"),
    ("scheduler/parallel_size", True, r"^scheduler\.parallel_size: expected an integer >= 1, got True$"),
    ("scheduler/type", "HyperBand", r"scheduler\.type: unknown scheduler 'HyperBand'; valid: FIFO"),
    ("scheduler/retries", 3, r"scheduler\.retries: unknown key; valid: type, parallel_size"),
    ("generate_log", "yes", r"generate_log: expected true or false"),
    ("extra", 1, r"^extra: unknown key; valid: task, searcher"),
    ("pavi/scalars", "acc", r"pavi\.scalars: expected a list of scalar names"),
    ("task/search_args/4/args/0/value", [], r"^task\.search_args\[4\] \(config\)\.args\[0\] \(epochs\)\.value: expected a "
                                           r"non-empty list of choices, got \[\]$"),
]


@pytest.mark.parametrize("path,value,message", MISTAKES, ids=[m[0] + ":" + repr(m[1])[:20] for m in MISTAKES])
def test_each_mistake_names_its_key_path(project, path, value, message):
    with pytest.raises(GmlConfigError, match=message):
        parse(with_change(path, value), project)


def test_nested_bundle_missing_a_used_key(project):
    raw = with_change("task/search_args/3/data", [{"m": 0.5}, {"q": 1}])
    with pytest.raises(GmlConfigError, match=r"task\.search_args\[3\]\.data\[1\]: this bundle does not set 'm'"):
        parse(raw, project)


def test_an_arg_set_twice_is_refused(project):
    raw = with_change("task/search_args/3/data", [{"m": 0.5, "lr": 1}])
    with pytest.raises(GmlConfigError, match=r"task\.search_args\[3\]: 'lr' is set twice"):
        parse(raw, project)


def test_value_and_data_are_both_accepted_but_not_together(project):
    raw = with_change("task/search_args/0", {"type": "Categorical", "name": "batch-size", "value": [1], "data": [2]})
    with pytest.raises(GmlConfigError, match=r"task\.search_args\[0\] \(batch-size\): give either 'data' or 'value'"):
        parse(raw, project)


def test_scalars_and_pavi_scalars_together_are_refused(project):
    raw = with_change("scalars", ["x"])
    with pytest.raises(GmlConfigError, match="pavi"):
        parse(raw, project)


def test_load_reports_missing_file_and_bad_yaml(tmp_path):
    missing = str(tmp_path / "none.yaml")
    with pytest.raises(GmlConfigError, match="does not exist") as err:
        load_search_config(missing)
    assert err.value.path == missing
    bad = tmp_path / "bad.yaml"
    bad.write_text("task: [unclosed\n")
    with pytest.raises(GmlConfigError, match="not valid YAML") as err:
        load_search_config(str(bad))
    assert err.value.path == str(bad)


def test_the_top_level_is_named_when_it_is_not_a_mapping(tmp_path, project):
    """An error about the whole config names it: the file's path, or <config> for a loaded value."""
    listed = tmp_path / "listed.yaml"
    listed.write_text(yaml.safe_dump([BASE]))
    with pytest.raises(GmlConfigError) as err:
        load_search_config(str(listed))
    assert str(err.value).startswith(f"{listed}: expected a mapping of top-level keys (task, searcher, scheduler, "
                                     f"...), got [")
    with pytest.raises(GmlConfigError, match=r"^<config>: expected a mapping of top-level keys .*, got 'task'$"):
        parse("task", project)


def test_real_with_step_and_int_with_step(project):
    raw = with_change("task/search_args/1", {"type": "Real", "name": "lr", "data": [0.1, 0.5], "step": 0.1})
    cfg = parse(raw, project)
    assert cfg.space.dimension("lr").grid() == [0.1, 0.2, 0.3, 0.4, 0.5]
    raw = with_change("task/search_args/2", {"type": "Int", "name": "epochs", "lower": 3, "upper": 10, "step": 3})
    assert parse(raw, project).space.dimension("epochs").grid() == [3, 6, 9]


def test_py_file_arg_accepts_mm_config(project):
    pytest.importorskip("mmcv")
    (project / "sched.py").write_text("epochs = 1\n")
    (project / "mm.py").write_text("_base_ = ['./sched.py']\nmodel = dict(depth=18)\n")
    raw = with_change("task/search_args/4/file", "mm.py")
    assert parse(raw, project).space.files[0].file == "mm.py", "a key set by a _base_ file exists"


def file_arg(inner, allow_new_keys=None, file="nested.yaml"):
    arg = {"type": "File", "name": "config", "file": file, "search_args": inner}
    if allow_new_keys is not None:
        arg["allow_new_keys"] = allow_new_keys
    return {"task": {"template": "python train.py --config {config} {bs} {seed}", "search_args": [
        {"type": "Categorical", "name": "bs", "data": [1]}, {"type": "Categorical", "name": "seed", "data": [1]},
        arg]}}


NESTED_YAML = "model:\n  hidden: 32\n  layers: 2\noptimizer:\n  lr: 0.1\n  momentum: 0.9\n"


@pytest.mark.parametrize("inner,key,nearest", [
    ({"type": "Categorical", "name": "model.hiden", "data": [16, 64]}, "model.hiden", "model.hidden"),
    ({"type": "Real", "name": "lr", "data": [0.01, 0.1]}, "lr", "optimizer.lr"),
])
def test_file_key_not_in_the_file_is_refused_with_the_nearest_keys(project, inner, key, nearest):
    (project / "nested.yaml").write_text(NESTED_YAML)
    with pytest.raises(GmlConfigError) as err:
        parse(file_arg([{"type": "Categorical", "name": "model.layers", "data": [1, 2]}, inner]), project)
    assert err.value.path == f"task.search_args[2] (config).search_args[1] ({key})"
    assert f"key {key!r} is not in nested.yaml (nearest existing keys: {nearest}" in err.value.message
    assert "allow_new_keys: true" in err.value.message


def test_nested_bundle_key_not_in_the_file_is_refused(project):
    (project / "nested.yaml").write_text(NESTED_YAML)
    with pytest.raises(GmlConfigError) as err:
        parse(file_arg([{"type": "Nested", "data": [{"model.hidden": 8, "optimizer.moment": 0.5}]}]), project)
    assert err.value.path == "task.search_args[2] (config).search_args[0] (optimizer.moment)"
    assert "nearest existing keys: optimizer.momentum" in err.value.message


def test_allow_new_keys_is_an_explicit_opt_in(project):
    (project / "nested.yaml").write_text(NESTED_YAML)
    new_key = [{"type": "Categorical", "name": "model.dropout", "data": [0.1]}]
    assert parse(file_arg(new_key, allow_new_keys=True), project).space.files[0].allow_new_keys
    with pytest.raises(GmlConfigError) as err:
        parse(file_arg(new_key, allow_new_keys="yes"), project)
    assert err.value.path == "task.search_args[2] (config).allow_new_keys"


def test_mm_key_is_checked_against_the_resolved_config(project):
    pytest.importorskip("mmcv")
    (project / "_base_").mkdir()
    (project / "_base_" / "sched.py").write_text("optimizer = dict(type='SGD', lr=0.1)\n")
    (project / "mm.py").write_text("_base_ = ['./_base_/sched.py']\nmodel = dict(backbone=dict(depth=18))\n")
    ok = [{"type": "Categorical", "name": "optimizer.lr", "data": [0.1]},
          {"type": "Categorical", "name": "model.backbone.depth", "data": [18, 34]}]
    assert parse(file_arg(ok, file="mm.py"), project).space.files[0].file == "mm.py"
    with pytest.raises(GmlConfigError) as err:
        parse(file_arg([{"type": "Categorical", "name": "model.backbone.deepth", "data": [18]}], file="mm.py"),
              project)
    assert "nearest existing keys: model.backbone.depth" in err.value.message
