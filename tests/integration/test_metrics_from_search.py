"""search-run reads metrics where training code already logs them (``metrics_from``), with real libraries writing:
Lightning's CSV logger on an epoch axis, MLflow's client, plain CSV / JSON lines / console output; parallel jobs
never mix their logs (each writes under its own $GML_JOB_DIR); the assessor judges every step."""
import os
import textwrap

import pytest

JOBS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "search", "ingest_jobs")


@pytest.fixture
def project(tmp_path, search_project):
    return search_project(tmp_path)


@pytest.mark.slow
def test_lightning_csv_logger_on_an_epoch_axis_with_two_batch_sizes_in_parallel(project):
    template = f"python {JOBS}/lightning_digits.py --epochs 2 --batch-size {{bs}} --logger csv"
    project.search("light", template, "bs", [32, 256], "val_acc", step_attribute="epoch",
                   metrics_from={"csv": "lightning_logs/*/metrics.csv"})
    jobs = project.jobs("light")
    for job in jobs.values():
        assert job["status"] == "SUCCEEDED", job
        assert sorted(job["scalars"]["val_acc"]) == [0, 1]      # epochs, whatever the batch size
        assert 0 < job["reward"] <= 1
    # different batch sizes give different curves: each job read its own log
    assert jobs[0]["scalars"]["val_acc"] != jobs[1]["scalars"]["val_acc"]


MLFLOW_TRAIN = textwrap.dedent('''
    import sys, time, mlflow
    quality = float(sys.argv[1])
    with mlflow.start_run():             # no tracking URI in the code: gml gives each job its own store
        for epoch in range(1, 4):
            mlflow.log_metric("val_acc", quality * epoch / 3, step=epoch)
''')


@pytest.mark.slow
def test_mlflow_runs_of_parallel_jobs_each_in_their_own_store(project):
    (project.root / "train_mlflow.py").write_text(MLFLOW_TRAIN)
    project.search("mlf", "python train_mlflow.py {q}", "q", [0.9, 0.6], "val_acc", metrics_from={"mlflow": True})
    jobs = project.jobs("mlf")
    assert [jobs[i]["status"] for i in (0, 1)] == ["SUCCEEDED", "SUCCEEDED"]
    for i, q in ((0, 0.9), (1, 0.6)):
        assert jobs[i]["scalars"]["val_acc"] == pytest.approx({s: q * s / 3 for s in (1, 2, 3)})


PLAIN_TRAIN = textwrap.dedent('''
    """A plain script: a CSV log, a JSON-lines log and console output, no gml code."""
    import csv, json, os, sys
    quality = float(sys.argv[1])
    out = os.environ["GML_JOB_DIR"]
    with open(os.path.join(out, "history.csv"), "w", newline="") as f_csv, \\
            open(os.path.join(out, "history.jsonl"), "w") as f_json:
        writer = csv.writer(f_csv)
        writer.writerow(["epoch", "csv_acc"])
        for epoch in range(1, 5):
            acc = quality * (1 - 0.5 ** epoch)
            writer.writerow([epoch, acc])
            f_json.write(json.dumps({"epoch": epoch, "metrics": {"json_acc": acc}}) + "\\n")
            print(f"epoch {epoch}: val_acc={acc:.4f}")
''')


def test_plain_csv_json_lines_and_stdout_regex_in_one_search(project):
    (project.root / "train_plain.py").write_text(PLAIN_TRAIN)
    project.search("plain", "python train_plain.py {q}", "q", [0.9, 0.5], "val_acc",
                   metrics_from={"csv": "history.csv", "jsonl": {"path": "*.jsonl"},
                                 "stdout": {"patterns": {"epoch": r"^epoch (\d+):", "val_acc": r"val_acc=([0-9.]+)"},
                                            "step_attribute": "epoch"}})
    jobs = project.jobs("plain")
    for i, q in ((0, 0.9), (1, 0.5)):
        expected = {e: q * (1 - 0.5 ** e) for e in range(1, 5)}
        scalars = jobs[i]["scalars"]
        assert scalars["csv_acc"] == pytest.approx(expected)
        assert scalars["metrics/json_acc"] == pytest.approx(expected)
        assert scalars["val_acc"] == pytest.approx(expected, abs=1e-4)
        assert jobs[i]["reward"] == pytest.approx(expected[4], abs=1e-4)


BURST_TRAIN = textwrap.dedent('''
    """30 epochs logged within milliseconds (a fast job, one read sees them all), then more work: the assessor must
    still judge each epoch, and stop the job at the first one its rule stops."""
    import sys, time
    quality = float(sys.argv[1])
    for epoch in range(1, 31):
        print(f"epoch={epoch} acc={quality:.3f}")
    time.sleep(0 if quality > 0.5 else 20)
''')


def test_the_assessor_judges_every_step_of_a_burst(project):
    (project.root / "train_burst.py").write_text(BURST_TRAIN)
    project.search("burst", "python train_burst.py {q}", "q", [0.8, 0.9, 0.1], "acc", parallel=1,
                   metrics_from={"stdout": r"epoch=(?P<epoch>\d+) acc=(?P<acc>[0-9.]+)"},
                   scheduler={"parallel_size": 1, "assessor": {"type": "MedianStopAssessor", "start_step": 4}})
    jobs = project.jobs("burst")
    assert [jobs[i]["status"] for i in range(3)] == ["SUCCEEDED", "SUCCEEDED", "EARLY_STOPPED"]
    assert jobs[2]["stopped_step"] == 4         # the rule's step, though all 30 values may have come in one read


@pytest.mark.slow
def test_lightning_tensorboard_logger_on_an_epoch_axis(project):
    template = f"python {JOBS}/lightning_digits.py --epochs 2 --batch-size {{bs}} --logger tb"
    project.search("lighttb", template, "bs", [32, 256], "val_acc",
                   metrics_from={"tensorboard": {"step_attribute": "epoch"}})
    jobs = project.jobs("lighttb")
    for job in jobs.values():
        assert job["status"] == "SUCCEEDED", job
        assert sorted(job["scalars"]["val_acc"]) == [0, 1]      # epochs, not Lightning's global steps
    assert jobs[0]["scalars"]["val_acc"] != jobs[1]["scalars"]["val_acc"]


@pytest.mark.slow
def test_mlflow_runs_of_parallel_jobs_on_a_tracking_server(project, mlflow_server):
    import mlflow
    (project.root / "train_mlflow.py").write_text(MLFLOW_TRAIN)
    project.search("mlfsrv", "python train_mlflow.py {q}", "q", [0.9, 0.6], "val_acc",
                   metrics_from={"mlflow": {"tracking_uri": mlflow_server.uri}})
    jobs = project.jobs("mlfsrv")
    assert [jobs[i]["status"] for i in (0, 1)] == ["SUCCEEDED", "SUCCEEDED"]
    for i, q in ((0, 0.9), (1, 0.6)):
        assert jobs[i]["scalars"]["val_acc"] == pytest.approx({s: q * s / 3 for s in (1, 2, 3)})
        job_dir = project.job_dir("mlfsrv", i)
        assert (job_dir / "log").exists() and not (job_dir / "mlflow.db").exists()     # logged to the server
    client = mlflow.MlflowClient(mlflow_server.uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()],
                              f"tags.`gml.job_dir` LIKE '{project.root}%'")
    assert len(runs) == 2          # each job's run, found by the tag gml gave it
