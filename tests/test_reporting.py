"""gml.report: the child side of the job environment contract."""
import json
import math

import pytest

import gml
from gml import reporting


def test_report_appends_one_json_line_per_call(tmp_path, monkeypatch):
    monkeypatch.setenv("GML_JOB_DIR", str(tmp_path))
    monkeypatch.setitem(reporting._auto_step, "next", 0)
    assert gml.report(acc=0.5, **{"Test Acc": 1})
    assert gml.report(step=5, loss=float("nan"), big=float("inf"))
    assert gml.report(loss=0.1)                                   # continues after the last explicit step
    lines = [json.loads(line) for line in (tmp_path / "scalars.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [0, 5, 6]
    assert lines[0]["scalars"] == {"acc": 0.5, "Test Acc": 1.0}
    assert math.isnan(float(lines[1]["scalars"]["loss"])) and float(lines[1]["scalars"]["big"]) == math.inf


def test_report_refuses_non_numbers_and_does_nothing_outside_a_search(tmp_path, monkeypatch):
    monkeypatch.delenv("GML_JOB_DIR", raising=False)
    assert gml.report(step=0, acc=0.9) is False
    with pytest.raises(TypeError, match="'acc' must be a real number"):
        gml.report(step=0, acc="high")
    with pytest.raises(TypeError, match="step must be an integer"):
        gml.report(step=1.5, acc=1)


def test_numpy_and_torch_scalars_are_accepted(tmp_path, monkeypatch):
    np = pytest.importorskip("numpy")
    monkeypatch.setenv("GML_JOB_DIR", str(tmp_path))
    assert gml.report(step=0, acc=np.float32(0.25), n=np.int64(3))
    assert json.loads((tmp_path / "scalars.jsonl").read_text())["scalars"] == {"acc": 0.25, "n": 3.0}
