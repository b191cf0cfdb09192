"""Template rendering keeps values as data; File args write config copies with the searched keys set."""
import json
import subprocess

import pytest
import yaml

from gml.search.config.file_args import write_config_copy
from gml.search.config.template import placeholders, render

NASTY = ["plain", "two words", "it's", 'say "hi"', "$(touch PWNED)", "`touch PWNED`", "a; touch PWNED",
         "x && touch PWNED", "$HOME", "back\\slash", "new\nline", "*", "--flag=1", "", "{lr}", "'; touch PWNED; '"]


def argv_of(command, tmp_path):
    """Run the rendered command through bash and return the argv the program received."""
    out = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    return out.split("\0")[:-1]


PRINT_ARGV = "printf '%s\\0'"   # bash's builtin printf: each argument followed by a NUL byte


@pytest.mark.parametrize("value", NASTY)
@pytest.mark.parametrize("form", ["{v}", "'{v}'", '"{v}"', "--opt={v}", "'pre {v} post'", '"pre {v} post"'])
def test_every_value_arrives_verbatim_and_never_runs(tmp_path, value, form):
    command = render(f"{PRINT_ARGV} {form} end", {"v": value})
    argv = argv_of(command, tmp_path)
    expected = form.strip("'\"").replace("{v}", value)
    assert argv == [expected, "end"]
    assert not (tmp_path / "PWNED").exists()


def test_shell_syntax_of_the_template_itself_is_kept(tmp_path):
    command = render("X=1; echo $X {a} ${HOME:+set} && echo {{literal}}", {"a": "$(id)"})
    out = subprocess.run(["bash", "-c", command], capture_output=True, text=True).stdout.split("\n")
    assert out[0] == "1 $(id) set" and out[1] == "{literal}"


def test_placeholders_skip_shell_variables():
    assert placeholders("srun -J ${SLURM_JOB_ID} python a.py {lr} {bs} {lr}") == ["lr", "bs"]


def test_non_string_values_render_readably(tmp_path):
    command = render(f"{PRINT_ARGV} {{a}} {{b}} {{c}} {{d}}", {"a": 0.001, "b": 64, "c": True, "d": [1, 2]})
    assert argv_of(command, tmp_path) == ["0.001", "64", "True", "[1, 2]"]


def test_yaml_and_json_copies_set_dotted_keys(tmp_path):
    src = tmp_path / "c.yaml"
    src.write_text("epochs: 1\nscheduler: {step_size: 1, gamma: 0.1}\nmodel: {name: r18}\n")
    out = write_config_copy(str(src), {"epochs": 4, "scheduler.gamma": 0.7, "new.deep.key": "x"}, str(tmp_path / "j"))
    data = yaml.safe_load(open(out))
    assert data == {"epochs": 4, "scheduler": {"step_size": 1, "gamma": 0.7}, "model": {"name": "r18"},
                    "new": {"deep": {"key": "x"}}}
    src_json = tmp_path / "c.json"
    src_json.write_text(json.dumps({"a": {"b": 1}}))
    out = write_config_copy(str(src_json), {"a.b": 2}, str(tmp_path / "j"))
    assert json.load(open(out)) == {"a": {"b": 2}}
    assert yaml.safe_load(open(src)) ["epochs"] == 1, "the original is untouched"


@pytest.fixture
def mm_config(tmp_path):
    (tmp_path / "_base_").mkdir()
    (tmp_path / "_base_" / "sched.py").write_text("optimizer = dict(type='SGD', lr=0.1, momentum=0.9)\n")
    cfg = tmp_path / "cfg.py"
    cfg.write_text("_base_ = ['./_base_/sched.py']\nmodel = dict(backbone=dict(depth=18, width=64))\n")
    return cfg


def test_py_copy_inherits_and_overrides_like_mmcv(tmp_path, mm_config):
    pytest.importorskip("mmcv")
    from mmcv import Config
    out = write_config_copy(str(mm_config), {"optimizer.lr": 0.01, "model.backbone.width": 32}, str(tmp_path / "j"))
    cfg = Config.fromfile(out)
    assert cfg.optimizer.lr == 0.01 and cfg.optimizer.momentum == 0.9
    assert cfg.model.backbone.depth == 18 and cfg.model.backbone.width == 32
