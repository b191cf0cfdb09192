"""Scalars from TensorBoard event files: the incremental reader, and a real search whose jobs only write TB."""
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import yaml

from gml.search.ingest import tensorboard as tb_ingest
from gml.search.task.store import Store
from gml.search.ingest.tensorboard import TensorBoardScalars, find_event_files

pytest.importorskip("tensorboard")
from tensorboard.compat.proto.event_pb2 import Event  # noqa: E402
from tensorboard.compat.proto.summary_pb2 import Summary  # noqa: E402
from tensorboard.plugins.scalar.metadata import create_summary_metadata  # noqa: E402
from tensorboard.summary.writer.event_file_writer import EventFileWriter  # noqa: E402
from tensorboard.util.tensor_util import make_tensor_proto  # noqa: E402


def scalar_event(step, **values):
    return Event(step=step, wall_time=time.time(),
                 summary=Summary(value=[Summary.Value(tag=k, simple_value=v) for k, v in values.items()]))


def test_incremental_reads_names_and_nested_directories(tmp_path):
    writer = EventFileWriter(str(tmp_path / "tf_logs" / "run"))
    reader = TensorBoardScalars()
    assert reader.read_new(0, str(tmp_path)) == []
    for step in (1, 2):
        writer.add_event(scalar_event(step, **{"val/acc": 0.1 * step, "train/loss": 1.0 / step}))
    writer.flush()
    rows = reader.read_new(0, str(tmp_path))
    assert sorted((n, s, v) for n, s, v, _ in rows) == [("train/loss", 1, 1.0), ("train/loss", 2, 0.5),
                                                        ("val/acc", 1, 0.1), ("val/acc", 2, 0.2)]
    assert reader.read_new(0, str(tmp_path)) == []                       # nothing new: nothing read again
    writer.add_event(scalar_event(3, **{"val/acc": 0.3, "train/loss": 0.25}))
    writer.flush()
    assert [(n, s, v) for n, s, v, _ in reader.read_new(0, str(tmp_path), names=["val/acc"])] == [("val/acc", 3, 0.3)]
    writer.close()


def test_tensor_scalars_are_read_and_other_summaries_ignored(tmp_path):
    writer = EventFileWriter(str(tmp_path))
    first = Summary.Value(tag="tf2/acc", tensor=make_tensor_proto(0.7), metadata=create_summary_metadata("", ""))
    writer.add_event(Event(step=5, summary=Summary(value=[first])))
    writer.add_event(Event(step=6, summary=Summary(value=[Summary.Value(tag="tf2/acc", tensor=make_tensor_proto(0.8))])))
    writer.add_event(Event(step=6, summary=Summary(value=[Summary.Value(
        tag="notes", tensor=make_tensor_proto("text"), metadata=create_summary_metadata("", "").__class__(
            plugin_data={"plugin_name": "text"}))])))
    writer.add_event(Event(step=7, summary=Summary(value=[Summary.Value(
        tag="hist", tensor=make_tensor_proto([1.0, 2.0]), metadata=create_summary_metadata("", "").__class__(
            plugin_data={"plugin_name": "histograms"}))])))
    writer.close()
    rows = TensorBoardScalars().read_new(0, str(tmp_path))
    assert [(n, s, v) for n, s, v, _ in rows] == [("tf2/acc", 5, 0.7), ("tf2/acc", 6, 0.8)]


def test_a_record_still_being_written_is_read_once_complete(tmp_path):
    src = tmp_path / "src"
    writer = EventFileWriter(str(src))
    for step in range(3):
        writer.add_event(scalar_event(step, acc=step / 10))
    writer.close()
    (path,) = find_event_files(str(src))
    data = open(path, "rb").read()
    job = tmp_path / "job"
    job.mkdir()
    partial = job / os.path.basename(path)
    partial.write_bytes(data[:-7])                          # the last record is cut in its middle
    reader = TensorBoardScalars()
    assert [s for _, s, _, _ in reader.read_new(0, str(job))] == [0, 1]
    with open(partial, "ab") as f:
        f.write(data[-7:])
    assert [(s, v) for _, s, v, _ in reader.read_new(0, str(job))] == [(2, 0.2)]


def test_files_of_an_earlier_attempt_are_skipped(tmp_path):
    writer = EventFileWriter(str(tmp_path / "old"))
    writer.add_event(scalar_event(1, acc=0.5))
    writer.close()
    (old,) = find_event_files(str(tmp_path))
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    started = time.time()
    assert TensorBoardScalars().read_new(0, str(tmp_path), since=started) == []
    writer = EventFileWriter(str(tmp_path / "new"))
    writer.add_event(scalar_event(1, acc=0.9))
    writer.close()
    assert [v for _, _, v, _ in TensorBoardScalars().read_new(0, str(tmp_path), since=started)] == [0.9]


def test_rereading_after_a_restart_adds_no_duplicate_rows(tmp_path):
    writer = EventFileWriter(str(tmp_path / "job"))
    for step in range(4):
        writer.add_event(scalar_event(step, acc=step / 10))
    writer.close()
    store = Store(str(tmp_path / "store.db"))
    store.add_job({"x": 1}, {"x": 1})
    for _ in range(2):                                      # a new reader = a controller that restarted
        store.add_scalars(0, TensorBoardScalars().read_new(0, str(tmp_path / "job")))
    assert store.scalars(0, "acc") == [("acc", s, pytest.approx(s / 10)) for s in range(4)]
    store.close()


def test_without_tensorboard_one_warning_and_no_rows(tmp_path, monkeypatch):
    writer = EventFileWriter(str(tmp_path))
    writer.add_event(scalar_event(1, acc=0.5))
    writer.close()
    monkeypatch.setattr(tb_ingest, "_load_tensorboard", lambda: None)
    warnings = []
    reader = TensorBoardScalars(warn=warnings.append)
    assert reader.read_new(0, str(tmp_path)) == [] and reader.read_new(1, str(tmp_path)) == []
    assert len(warnings) == 1 and "tensorboard is not installed" in warnings[0]


def test_torch_summary_writer_files_are_read(tmp_path):
    torch_tb = pytest.importorskip("torch.utils.tensorboard")
    writer = torch_tb.SummaryWriter(log_dir=str(tmp_path / "lightning_logs" / "version_0"))
    for step in range(3):
        writer.add_scalar("val/acc", 0.25 * step, step)
    writer.add_histogram("weights", np.array([0.1, 0.2, 0.3]), 0)
    writer.close()
    rows = TensorBoardScalars().read_new(0, str(tmp_path))
    assert [(n, s, v) for n, s, v, _ in rows] == [("val/acc", 0, 0.0), ("val/acc", 1, 0.25), ("val/acc", 2, 0.5)]


TB_TRAIN = textwrap.dedent('''
    """A job that only writes TensorBoard event files (as mmcv's TensorboardLoggerHook would) under its dir."""
    import argparse, os, time
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float)
    a = p.parse_args()
    writer = EventFileWriter(os.path.join(os.environ["GML_JOB_DIR"], "tf_logs"))
    for epoch in range(1, 4):
        time.sleep(0.2)
        writer.add_event(Event(step=epoch, wall_time=time.time(), summary=Summary(value=[
            Summary.Value(tag="val/acc", simple_value=a.lr * epoch),
            Summary.Value(tag="train/loss", simple_value=1.0 / epoch),
            Summary.Value(tag="val/loss", simple_value=2.0 / epoch)])))
        writer.flush()
    writer.close()
''')


def test_a_search_collects_tensorboard_scalars_of_its_jobs(tmp_path):
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    (tmp_path / "train_tb.py").write_text(TB_TRAIN)
    config = {"task": {"template": "python train_tb.py --lr {lr}",
                       "search_args": [{"type": "Categorical", "name": "lr", "data": [0.1, 0.2]}]},
              "searcher": {"reward_attribute": "val/acc"}, "scheduler": {"parallel_size": 2},
              "scalars": ["val/loss"]}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(config))

    def cli(*args):
        proc = subprocess.run([os.path.join(bin_dir, args[0]), *args[1:]], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    cli("search-init")
    cli("search-run", "s.yaml", "-t", "tb")
    cli("search-ctl", "show", "-t", "tb", "--scalar", "--out", "jobs.yaml")
    jobs = yaml.safe_load((tmp_path / "jobs.yaml").read_text())["jobs"]
    assert [j["status"] for j in jobs] == ["SUCCEEDED", "SUCCEEDED"]
    assert [j["reward"] for j in jobs] == [pytest.approx(0.3), pytest.approx(0.6)]
    for job in jobs:
        assert sorted(job["scalars"]) == ["val/acc", "val/loss"]          # train/loss was not asked for
        assert sorted(job["scalars"]["val/loss"]) == [1, 2, 3]
    shown = cli("search-ctl", "show", "-t", "tb", "--scalar")
    assert "val/loss" in shown and "train/loss" not in shown
