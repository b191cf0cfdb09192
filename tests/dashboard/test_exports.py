"""search-ctl export --tensorboard (checked through TensorBoard's own HTTP API) and --optuna (loaded back with
optuna.load_study), over a real finished search; the tar.gz export keeps working."""
import json
import os
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request

import pytest
import yaml

BIN = os.path.dirname(sys.executable)


def jobs_of(project, task):
    out = project.root / f"{task}-export-jobs.yaml"
    project.cli("search-ctl", "show", "-t", task, "--scalar", "--out", str(out), check=0)
    return yaml.safe_load(out.read_text())["jobs"]


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


@pytest.mark.slow
def test_tensorboard_hparams_lists_every_job_with_its_params_and_reward(demo, tmp_path, helpers):
    out = tmp_path / "tb"
    made = demo.cli("search-ctl", "export", "-t", "demo", "--tensorboard", str(out), check=0)
    jobs = jobs_of(demo, "demo")
    assert f"{len(jobs)} job runs" in made.stdout
    assert not (demo.root / "demo.tar.gz").exists()           # only what was asked for
    port = helpers["free_port"]()
    board = subprocess.Popen([os.path.join(BIN, "tensorboard"), "--logdir", str(out), "--port", str(port),
                              "--host", "127.0.0.1", "--load_fast=false"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}/data/plugin/hparams"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert board.poll() is None, board.stderr.read()
            try:
                groups = post(f"{base}/session_groups", {
                    "experimentName": "", "startIndex": 0, "sliceSize": 1000,
                    "allowedStatuses": ["STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING", "STATUS_UNKNOWN"]})
                if len(groups.get("sessionGroups", [])) == len(jobs):
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert time.monotonic() < deadline, "TensorBoard did not list the runs in time"
            time.sleep(1)
        experiment = post(f"{base}/experiment", {"experimentName": ""})
        assert sorted(h["name"] for h in experiment["hparamInfos"]) == ["lr", "opt", "width"]
        opt = next(h for h in experiment["hparamInfos"] if h["name"] == "opt")
        assert opt["domainDiscrete"] == ["adam", "sgd"]
        assert [m["name"]["tag"] for m in experiment["metricInfos"]] == ["acc", "mflops"]
        by_name = {g["name"]: g for g in groups["sessionGroups"]}
        for job in jobs:
            group = by_name[f"job-{job['id']}"]
            assert group["hparams"]["opt"] == job["params"]["opt"]
            assert group["hparams"]["lr"] == pytest.approx(job["params"]["lr"])
            assert group["hparams"]["width"] == job["params"]["width"]
            acc = {m["name"]["tag"]: m for m in group["metricValues"]}["acc"]
            last_step = max(job["scalars"]["acc"])
            assert acc["trainingStep"] == last_step
            assert acc["value"] == pytest.approx(job["scalars"]["acc"][last_step], rel=1e-6)
            if job["status"] == "SUCCEEDED":
                assert acc["value"] == pytest.approx(job["reward"], rel=1e-6)
            assert group["sessions"][0]["status"] == "STATUS_SUCCESS"
    finally:
        board.terminate()
        board.wait(30)


def test_tensorboard_export_refuses_a_directory_that_is_not_empty(demo, tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "x").write_text("keep me")
    out = demo.cli("search-ctl", "export", "-t", "demo", "--tensorboard", str(tmp_path / "old"))
    assert out.returncode == 2 and out.stderr.startswith("search-ctl: error: --tensorboard: ")
    assert os.listdir(tmp_path / "old") == ["x"]


def test_optuna_study_matches_the_task(demo, tmp_path):
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
    from optuna.trial import TrialState
    url = f"sqlite:///{tmp_path / 'study.db'}"
    made = demo.cli("search-ctl", "export", "-t", "demo", "--optuna", url, check=0)
    jobs = jobs_of(demo, "demo")
    assert f"{len(jobs)} trials" in made.stdout
    study = optuna.load_study(study_name="demo", storage=url)
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == len(jobs)
    states = {"SUCCEEDED": TrialState.COMPLETE, "EARLY_STOPPED": TrialState.PRUNED}
    for job, trial in zip(jobs, trials):
        assert trial.user_attrs["gml_job_id"] == job["id"] and trial.user_attrs["gml_status"] == job["status"]
        assert trial.state == states[job["status"]]
        assert trial.params["opt"] == job["params"]["opt"] and trial.params["width"] == job["params"]["width"]
        assert trial.params["lr"] == pytest.approx(job["params"]["lr"])
        assert trial.value == pytest.approx(job["reward"])
        assert trial.intermediate_values == pytest.approx({int(k): v for k, v in job["scalars"]["acc"].items()})
        assert trial.distributions == {
            "lr": FloatDistribution(0.001, 0.1, log=True),
            "width": IntDistribution(8, 64, step=8),
            "opt": CategoricalDistribution(["sgd", "adam"])}
        if job["status"] == "EARLY_STOPPED":
            assert trial.user_attrs["gml_stop_reason"] == f"stopped by the assessor at step {job['stopped_step']}"
            # the step it was stopped at is there; a fast job may write one more before the stop reaches it
            assert job["stopped_step"] in trial.intermediate_values
    best = max((j for j in jobs if j["status"] == "SUCCEEDED"), key=lambda j: j["reward"])
    assert study.best_trial.user_attrs["gml_job_id"] == best["id"]
    again = demo.cli("search-ctl", "export", "-t", "demo", "--optuna", url)
    assert again.returncode == 2 and "exists already" in again.stderr
    bad = demo.cli("search-ctl", "export", "-t", "demo", "--optuna", "study.db")
    assert bad.returncode == 2 and "--optuna" in bad.stderr


def test_the_tar_export_still_works_and_unknown_tasks_are_errors(demo, tmp_path):
    tar_path = tmp_path / "demo.tar.gz"
    demo.cli("search-ctl", "export", "-t", "demo", "--tar-path", str(tar_path), check=0)
    with tarfile.open(tar_path) as tar:
        assert "demo/state.db" in tar.getnames()
    for command in (["export", "-t", "nope", "--optuna", f"sqlite:///{tmp_path / 'x.db'}"],
                    ["report", "-t", "nope"], ["dashboard", "-t", "nope", "--port", "0"]):
        out = demo.cli("search-ctl", *command)
        assert out.returncode == 2 and out.stderr.strip() == \
            f"search-ctl: error: no task 'nope' in {demo.root / '.search-run' / 'tasks'}", (command, out.stderr)
