"""Metric sources (gml.search.ingest) read what real libraries write, while they write it, once each."""
import csv
import json
import math
import os
import subprocess
import sys
import time

import pytest

from gml.search.ingest.csv_file import CsvMetrics
from gml.search.ingest.json_lines import JsonLinesMetrics
from gml.search.ingest.mlflow_store import MlflowMetrics
from gml.search.ingest.stdout_regex import StdoutRegexMetrics
from gml.search.ingest.tensorboard import TensorBoardMetrics

JOBS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ingest_jobs")


def _child_env(job_dir, **extra):
    env = dict(os.environ, GML_JOB_DIR=str(job_dir), OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def _poll_until_done(proc, sources, log=None):
    """Read every source while ``proc`` runs and once after; returns {source index: [rows...]}."""
    got = {i: [] for i in range(len(sources))}
    while proc.poll() is None:
        for i, source in enumerate(sources):
            got[i].extend(source.read_new())
        time.sleep(0.2)
    for i, source in enumerate(sources):
        got[i].extend(source.read_new())
    return got


def _curve(rows, name):
    points = [(step, value) for n, step, value, _ in rows if n == name]
    assert len(points) == len({s for s, _ in points}), f"a step of {name} came twice: {points}"
    return sorted(points)


@pytest.mark.slow
def test_lightning_csv_and_tensorboard_loggers_on_an_epoch_axis(tmp_path):
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    csv_source = CsvMetrics(str(job_dir), step_attribute="epoch")
    tb_source = TensorBoardMetrics(str(job_dir), step_attribute="epoch")
    tb_native = TensorBoardMetrics(str(job_dir))
    proc = subprocess.Popen([sys.executable, os.path.join(JOBS, "lightning_digits.py"), "--epochs", "3",
                             "--sleep", "0.5"], cwd=tmp_path, env=_child_env(job_dir),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    got = _poll_until_done(proc, [csv_source, tb_source, tb_native])
    assert proc.returncode == 0, proc.stdout.read()[-3000:]
    csv_acc = _curve(got[0], "val_acc")
    assert [s for s, _ in csv_acc] == [0, 1, 2]
    assert all(0.0 < v <= 1.0 for _, v in csv_acc)
    tb_acc = _curve(got[1], "val_acc")
    assert [s for s, _ in tb_acc] == [0, 1, 2]
    assert [round(v, 4) for _, v in tb_acc] == [round(v, 4) for _, v in csv_acc]
    # Lightning's own step axis is the global batch step: 22 batches of 64 per epoch here, not the epoch
    assert [s for s, _ in _curve(got[2], "val_acc")] == [21, 43, 65]
    # a fresh reader sees exactly what the incremental one returned in pieces
    assert _curve(CsvMetrics(str(job_dir), step_attribute="epoch").read_new(), "val_acc") == csv_acc
    # train_loss is logged every 5 batches: several values per epoch on the epoch axis (the store keeps the last)
    assert {s for n, s, _, _ in got[0] if n == "train_loss"} == {0, 1, 2}


def test_csv_partial_line_waits_and_a_rewritten_header_repeats_nothing(tmp_path):
    path = tmp_path / "logs" / "metrics.csv"
    path.parent.mkdir()
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", "acc"])
        writer.writerow([1, 0.5])
        f.write("2,0.6")                              # a row still being written
    source = CsvMetrics(str(tmp_path))
    assert [(n, s, v) for n, s, v, _ in source.read_new()] == [("acc", 1, 0.5)]
    with open(path, "a", newline="") as f:
        f.write("\n")
    assert [(n, s, v) for n, s, v, _ in source.read_new()] == [("acc", 2, 0.6)]
    resumed = CsvMetrics(str(tmp_path), cursor=json.loads(json.dumps(source.cursor)))
    with open(path, "w", newline="") as f:           # a new column: the logger rewrites the file, wider
        writer = csv.writer(f)
        writer.writerows([["epoch", "acc", "loss"], [1, 0.5, ""], [2, 0.6, ""], [3, 0.7, 0.25]])
    expected = [("acc", 3, 0.7), ("loss", 3, 0.25)]
    assert [(n, s, v) for n, s, v, _ in source.read_new()] == expected
    assert [(n, s, v) for n, s, v, _ in resumed.read_new()] == expected
    assert source.read_new() == []


def test_json_lines_nested_keys_step_attribute_and_partial_line(tmp_path):
    path = tmp_path / "out" / "log.jsonl"
    path.parent.mkdir()
    with open(path, "w") as f:
        f.write(json.dumps({"iter": 100, "epoch": 1, "val": {"acc": 0.8}, "note": "x"}) + "\n")
        f.write(json.dumps({"iter": 200, "epoch": 2, "val": {"acc": float("nan")}})[:-2])
    source = JsonLinesMetrics(str(tmp_path), step_attribute="epoch")
    assert sorted((n, s, v) for n, s, v, _ in source.read_new()) == [("iter", 1, 100.0), ("val/acc", 1, 0.8)]
    with open(path, "a") as f:
        f.write("}}\n")
    rows = source.read_new()
    assert [(n, s) for n, s, _, _ in rows] == [("iter", 2), ("val/acc", 2)]
    assert math.isnan(rows[1][2])


def test_stdout_regex_reads_a_running_jobs_console(tmp_path):
    log = tmp_path / "job.log"
    script = ("import time\n"
              "for epoch in range(1, 5):\n"
              "    print(f'Epoch {epoch}/4 - loss {1/epoch:.3f} - val_acc={0.5 + epoch / 10:.2f}')\n"
              "    time.sleep(0.3)\n")
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=out, stderr=subprocess.STDOUT,
                                env=_child_env(tmp_path))
        by_count = StdoutRegexMetrics(str(log), {"val_acc": r"val_acc=([0-9.]+)"})
        by_epoch = StdoutRegexMetrics(str(log), {"epoch": r"Epoch (\d+)/", "val_acc": r"val_acc=([0-9.]+)"},
                                      step_attribute="epoch")
        named = StdoutRegexMetrics(str(log), {"line": r"Epoch (?P<epoch>\d+)/\d+ - loss (?P<loss>[0-9.]+)"})
        got = _poll_until_done(proc, [by_count, by_epoch, named])
    assert proc.returncode == 0
    assert _curve(got[0], "val_acc") == [(1, 0.6), (2, 0.7), (3, 0.8), (4, 0.9)]
    assert _curve(got[1], "val_acc") == [(1, 0.6), (2, 0.7), (3, 0.8), (4, 0.9)]
    assert _curve(got[2], "loss") == [(1, 1.0), (2, 0.5), (3, 0.333), (4, 0.25)]


MLFLOW_JOB = """
import os, sys, time, mlflow
mlflow.set_experiment("digits")
with mlflow.start_run():
    for step in range(4):
        mlflow.log_metric("epoch", step, step=step * 10)
        mlflow.log_metric("val/acc", 0.5 + step / 10, step=step * 10)
        time.sleep(0.2)
"""


@pytest.mark.slow
@pytest.mark.parametrize("store", ["sqlite", "file"])
def test_mlflow_client_writes_and_the_store_is_read_while_it_runs(tmp_path, store):
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    uri = f"sqlite:///{job_dir}/mlflow.db" if store == "sqlite" else f"file:{job_dir}/mlruns"
    proc = subprocess.Popen([sys.executable, "-c", MLFLOW_JOB], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env=_child_env(job_dir, MLFLOW_TRACKING_URI=uri, MLFLOW_ALLOW_FILE_STORE="true"))
    native, by_epoch = MlflowMetrics(str(job_dir)), MlflowMetrics(str(job_dir), step_attribute="epoch")
    got = _poll_until_done(proc, [native, by_epoch])
    assert proc.returncode == 0, proc.stdout.read()[-3000:]
    assert _curve(got[0], "val/acc") == [(0, 0.5), (10, 0.6), (20, 0.7), (30, 0.8)]
    assert _curve(got[1], "val/acc") == [(0, 0.5), (1, 0.6), (2, 0.7), (3, 0.8)]
    resumed = MlflowMetrics(str(job_dir), cursor=json.loads(json.dumps(native.cursor)))
    assert resumed.read_new() == []


def test_metrics_from_parses_each_source_and_names_the_key_path_of_mistakes():
    from gml.errors import GmlConfigError
    from gml.search.ingest.sources import SourceKind, job_environment, parse_metrics_from
    specs = parse_metrics_from({"csv": "lightning_logs/*/metrics.csv", "stdout": "val_acc=([0-9.]+)",
                                "mlflow": True, "tensorboard": {"step_attribute": "step"}},
                               default_step="epoch", reward_attribute="acc")
    assert [(s.kind, s.step_attribute) for s in specs] == [(SourceKind.CSV, "epoch"), (SourceKind.STDOUT, "epoch"),
                                                           (SourceKind.MLFLOW, "epoch"),
                                                           (SourceKind.TENSORBOARD, "step")]
    assert specs[1].patterns == {"acc": "val_acc=([0-9.]+)"}
    assert job_environment(specs, "/j")["MLFLOW_TRACKING_URI"] == "sqlite:////j/mlflow.db"
    for raw, path, words in [({"wandb": True}, "metrics_from.wandb", "unknown metric source"),
                             ({"csv": {"pth": "a.csv"}}, "metrics_from.csv.pth", "unknown key"),
                             ({"csv": "../other/metrics.csv"}, "metrics_from.csv.path", "inside the job"),
                             ({"stdout": "val_acc=[0-9.]+"}, "metrics_from.stdout.patterns", "group"),
                             ({"stdout": {"patterns": {"acc": "("}}}, "metrics_from.stdout.patterns.acc", "valid"),
                             ({"jsonl": {"step_attribute": 3}}, "metrics_from.jsonl.step_attribute", "name")]:
        with pytest.raises(GmlConfigError) as err:
            parse_metrics_from(raw, reward_attribute="acc")
        assert err.value.path == path and words in err.value.message, str(err.value)


def test_matching_files_sees_the_jobs_own_files_not_the_linked_code_copy(tmp_path):
    """A job runs in <job_dir>/cwd, which links to the task's code copy: patterns match the job's own files there
    or in the job directory, never a file reached through a link."""
    from gml.search.ingest.base import matching_files
    code = tmp_path / "code"
    (code / "old_logs").mkdir(parents=True)
    (code / "old_logs" / "metrics.csv").write_text("epoch,acc\n")
    (code / "metrics.csv").write_text("epoch,acc\n")
    job = tmp_path / "job"
    (job / "cwd" / "lightning_logs" / "version_0").mkdir(parents=True)
    (job / "cwd" / "old_logs").symlink_to(code / "old_logs")
    (job / "cwd" / "metrics.csv").symlink_to(code / "metrics.csv")
    own = job / "cwd" / "lightning_logs" / "version_0" / "metrics.csv"
    own.write_text("epoch,acc\n")
    (job / "direct.csv").write_text("epoch,acc\n")
    assert matching_files(str(job), "**/metrics.csv") == [str(own)]
    assert matching_files(str(job), "lightning_logs/*/metrics.csv") == [str(own)]     # relative to cwd/
    assert matching_files(str(job), "*.csv") == [str(job / "direct.csv")]
