"""metrics_from.mlflow with a tracking_uri: real jobs log with MLflow's client to a real ``mlflow server`` (the
session's ``mlflow_server`` fixture) and gml reads each job's own runs over the REST API while they run."""
import json
import os
import subprocess
import sys
import time

import pytest

from gml.errors import GmlConfigError
from gml.search.ingest.mlflow_server import JOB_TAG
from gml.search.ingest.sources import job_environment, open_sources, parse_metrics_from

JOB = """
import sys, time, mlflow
quality, experiment, runs = float(sys.argv[1]), sys.argv[2], int(sys.argv[3])
mlflow.set_experiment(experiment)
for run in range(runs):
    with mlflow.start_run():
        for epoch in range(1, 5):
            mlflow.log_metric("epoch", epoch, step=epoch * 10)
            mlflow.log_metric("val_acc" if run == 0 else "second_run_acc", quality * epoch, step=epoch * 10)
            time.sleep(0.3)
"""


def _start_job(job_dir, specs, quality, experiment, runs=1):
    env = dict(os.environ, OMP_NUM_THREADS="1", **job_environment(specs, str(job_dir)))
    return subprocess.Popen([sys.executable, "-c", JOB, str(quality), experiment, str(runs)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _curve(rows, name):
    points = [(step, value) for n, step, value, _ in rows if n == name]
    assert len(points) == len({s for s, _ in points}), f"a step of {name} came twice: {points}"
    return sorted(points)


@pytest.mark.slow
def test_parallel_jobs_read_their_own_runs_from_the_server_while_they_run(tmp_path, mlflow_server):
    import mlflow
    specs = parse_metrics_from({"mlflow": {"tracking_uri": mlflow_server.uri, "step_attribute": "epoch"}})
    jobs_dir = tmp_path / "task" / "jobs" / "all"
    dirs = [jobs_dir / str(i) for i in range(3)]
    for d in dirs:
        d.mkdir(parents=True)
    client = mlflow.MlflowClient(mlflow_server.uri)
    client.create_experiment("digits")     # the user's experiment (two jobs creating it at once may race in MLflow)
    # job 2 is a rerun: a run of its earlier attempt, then the earlier attempt's log set aside (log.attempt1)
    old = client.create_run(client.create_experiment("old-attempt"), tags={JOB_TAG: str(dirs[2])})
    client.log_metric(old.info.run_id, "val_acc", 99.0, step=10)
    client.log_metric(old.info.run_id, "epoch", 1, step=10)
    time.sleep(0.05)
    (dirs[2] / "log.attempt1").write_text("earlier attempt\n")
    # a run of another task on the same server, and one without gml's tag: neither is any job's
    other = client.create_run("0", tags={JOB_TAG: str(tmp_path / "other" / "jobs" / "all" / "0")})
    client.log_metric(other.info.run_id, "val_acc", 42.0, step=10)
    sources = [open_sources(specs, str(d), None)["mlflow"] for d in dirs]
    procs = [_start_job(dirs[0], specs, 0.1, "digits", runs=2), _start_job(dirs[1], specs, 0.2, "digits"),
             _start_job(dirs[2], specs, 0.3, "rerun")]
    got, read_while_running = {i: [] for i in range(3)}, set()
    while any(p.poll() is None for p in procs):
        for i, source in enumerate(sources):
            rows = source.read_new()
            got[i].extend(rows)
            if rows and procs[i].poll() is None:
                read_while_running.add(i)
        time.sleep(0.2)
    for i, source in enumerate(sources):
        got[i].extend(source.read_new())
    for proc in procs:
        assert proc.returncode == 0, proc.stdout.read()[-3000:]
    assert read_while_running == {0, 1, 2}
    epochs = [1, 2, 3, 4]
    assert dict(_curve(got[0], "val_acc")) == pytest.approx({e: 0.1 * e for e in epochs})
    assert dict(_curve(got[0], "second_run_acc")) == pytest.approx({e: 0.1 * e for e in epochs})   # its 2nd run
    assert dict(_curve(got[1], "val_acc")) == pytest.approx({e: 0.2 * e for e in epochs})
    assert dict(_curve(got[2], "val_acc")) == pytest.approx({e: 0.3 * e for e in epochs})   # not the old 99.0
    assert {n for n, *_ in got[1] + got[2]} == {"epoch", "val_acc"}
    # the runs carry the job's tag (set by gml through MLFLOW_RUN_CONTEXT, not by the job's code)
    tagged = client.search_runs(client.get_experiment_by_name("digits").experiment_id)
    assert sorted(r.data.tags[JOB_TAG] for r in tagged) == sorted([str(dirs[0])] * 2 + [str(dirs[1])])
    # a new source from a cursor (a controller restart) continues where the old one was: nothing again
    resumed = open_sources(specs, str(dirs[0]), None, cursors={"mlflow": json.loads(json.dumps(sources[0].cursor))})
    assert resumed["mlflow"].read_new() == []
    # ... and without a cursor it reads everything again (the task store keeps one value per step)
    del sources, resumed
    again = open_sources(specs, str(dirs[1]), None)["mlflow"]
    assert dict(_curve(again.read_new(), "val_acc")) == pytest.approx({e: 0.2 * e for e in epochs})


@pytest.mark.slow
def test_a_server_that_is_down_for_a_while_is_retried_and_said_so(tmp_path, mlflow_server, monkeypatch):
    import mlflow
    from gml.search.ingest import mlflow_server as server_source
    monkeypatch.setattr(server_source, "RETRY_EVERY", 0.5)     # 5 s in the controller
    specs = parse_metrics_from({"mlflow": {"tracking_uri": mlflow_server.uri}})
    job_dir = tmp_path / "task" / "jobs" / "all" / "0"
    job_dir.mkdir(parents=True)
    warnings = []
    source = open_sources(specs, str(job_dir), None, warn=warnings.append)["mlflow"]
    client = mlflow.MlflowClient(mlflow_server.uri)
    run = client.create_run("0", tags={JOB_TAG: str(job_dir)})
    client.log_metric(run.info.run_id, "acc", 0.5, step=1)
    assert _curve(source.read_new(), "acc") == [(1, 0.5)]
    mlflow_server.stop()
    try:
        for _ in range(3):
            assert source.read_new() == []        # no exception: the controller (and its jobs) go on
            time.sleep(0.6)
        assert len(warnings) == 1 and "does not answer" in warnings[0] and "retrying" in warnings[0], warnings
    finally:
        mlflow_server.start()
    client.log_metric(run.info.run_id, "acc", 0.6, step=2)      # logged after the outage
    time.sleep(0.6)
    assert _curve(source.read_new(), "acc") == [(2, 0.6)]
    assert len(warnings) == 2 and "answers again" in warnings[1], warnings


def test_tracking_uri_mistakes_are_config_errors_with_the_key_path():
    at = "metrics_from.mlflow.tracking_uri"
    for bad, words in [("sqlite:///mlflow.db", "http(s) URL"), ("localhost:5000", "http(s) URL"),
                       ("http://", "http(s) URL"), ("http://host:70000", "invalid port"), (5000, "http(s) URL"),
                       ("http://host:5000/?x=1", "query")]:
        with pytest.raises(GmlConfigError) as err:
            parse_metrics_from({"mlflow": {"tracking_uri": bad}})
        assert err.value.path == at and words in err.value.message, (bad, str(err.value))
        assert repr(bad) in str(err.value)
    with pytest.raises(GmlConfigError) as err:
        parse_metrics_from({"mlflow": {"tracking-uri": "http://h:5000"}})
    assert err.value.path == "metrics_from.mlflow.tracking-uri" and "tracking_uri" in err.value.message


def test_job_environment_points_jobs_at_the_server_with_their_tag(monkeypatch):
    specs = parse_metrics_from({"mlflow": {"tracking_uri": "https://mlflow.example.org/prefix/"}})
    monkeypatch.setenv("MLFLOW_RUN_CONTEXT", json.dumps({"team": "vision"}))
    env = job_environment(specs, "/t/jobs/all/7")
    assert env["MLFLOW_TRACKING_URI"] == "https://mlflow.example.org/prefix"
    assert json.loads(env["MLFLOW_RUN_CONTEXT"]) == {"team": "vision", JOB_TAG: "/t/jobs/all/7"}
