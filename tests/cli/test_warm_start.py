"""Warm starts end to end on real child processes: searcher.initial_points run first; search-ctl enqueue adds a
configuration to a running task (its controller picks it up) and to a finished one (run on --resume)."""
import time

SPACE = [{"type": "Categorical", "name": "lr", "data": [0.1, 0.2, 0.3, 0.4]},
         {"type": "Real", "name": "wd", "data": [0.0, 0.001]}]
TEMPLATE = "python train.py --lr {lr} --bs {wd}"


def params(project, task):
    return [(j["params"]["lr"], j["params"]["wd"]) for j in project.jobs(task)["jobs"]]


def test_initial_points_run_first_then_the_searcher(project):
    cfg = project.write_config(TEMPLATE, SPACE, scheduler={"parallel_size": 1, "stop_criterion": {"max_tries": 4}},
                               searcher={"type": "TPESearcher", "seed": 0,
                                         "initial_points": [{"lr": 0.3, "wd": 0.0005}, {"lr": 0.1, "wd": "1e-4"}]})
    run = project.cli("search-run", cfg, "-t", "warm", check=0)
    assert "FINISHED" in run.stderr
    jobs = project.jobs("warm")["jobs"]
    assert [(j["params"]["lr"], j["params"]["wd"]) for j in jobs[:2]] == [(0.3, 0.0005), (0.1, 0.0001)]
    assert len(jobs) == 4 and all(j["status"] == "SUCCEEDED" for j in jobs)
    assert abs(jobs[0]["reward"] - 0.9) < 1e-9


def test_a_bad_initial_point_is_refused_with_its_key_path(project):
    cfg = project.write_config(TEMPLATE, SPACE, searcher={"type": "RandomSearcher",
                                                          "initial_points": [{"lr": 0.3, "wd": 0}, {"lr": 0.5}]})
    run = project.cli("search-run", cfg, "-t", "bad", check=2)
    assert run.stderr.strip().splitlines() == [
        "search-run: error: searcher.initial_points[1].lr: expected one of 0.1, 0.2, 0.3, 0.4, got 0.5"]
    assert not project.task_dir("bad").exists()


def test_enqueue_into_a_running_task_runs_next(project):
    # a grid of 8 (wd on steps of 0.001); the enqueued configuration is one of them, so it is not run twice
    cfg = project.write_config("python train.py --lr {lr} --bs {wd} --sleep 0.3",
                               [SPACE[0], dict(SPACE[1], step=0.001)], scheduler={"parallel_size": 1})
    ctl = project.start("search-run", cfg, "-t", "live")
    deadline = time.monotonic() + 30
    while not (project.task_dir("live") / "jobs" / "all" / "0").exists():
        assert time.monotonic() < deadline, "the first job never started"
        time.sleep(0.05)
    added = project.cli("search-ctl", "enqueue", "-t", "live", "--params", "lr=0.4", "wd=1e-3", check=0)
    assert "the running controller launches it next" in added.stdout
    again = project.cli("search-ctl", "enqueue", "-t", "live", "--params", "lr=0.4", "wd=0.001", check=2)
    assert "already" in again.stderr
    out, _ = ctl.communicate(timeout=120)
    assert ctl.returncode == 0 and "FINISHED" in out
    runs = params(project, "live")
    assert runs[1] == (0.4, 0.001) and len(runs) == 8 and len(set(runs)) == 8, runs


def test_enqueue_into_a_finished_task_runs_on_resume(project):
    cfg = project.write_config(TEMPLATE, SPACE, searcher={"type": "RandomSearcher", "seed": 1},
                               scheduler={"stop_criterion": {"max_tries": 2}})
    project.cli("search-run", cfg, "-t", "done", check=0)
    before = params(project, "done")
    bad = project.cli("search-ctl", "enqueue", "-t", "done", "--params", "lr=0.4", "wd=0.5", check=2)
    assert bad.stderr.strip() == ("search-ctl: error: --params wd: expected a number in [0.0, 0.001], got 0.5")
    missing = project.cli("search-ctl", "enqueue", "-t", "done", "--params", "lr=0.4", check=2)
    assert "--params wd: is missing" in missing.stderr
    lr, wd = before[0]
    dup = project.cli("search-ctl", "enqueue", "-t", "done", "--params", f"lr={lr}", f"wd={wd!r}", check=2)
    assert "is job 0 of task 'done' already" in dup.stderr
    added = project.cli("search-ctl", "enqueue", "-t", "done", "--params", "lr=0.4", "wd=0.0007", check=0)
    assert "--resume" in added.stdout
    assert "waiting: 1 enqueued configuration(s)" in project.cli("search-ctl", "show", "-t", "done", check=0).stdout
    resumed = project.cli("search-run", cfg, "-t", "done", "--resume", check=0)
    assert "FINISHED" in resumed.stderr
    after = params(project, "done")
    assert after == before + [(0.4, 0.0007)], "the enqueued configuration runs even though max_tries was reached"
    assert project.jobs("done")["jobs"][2]["status"] == "SUCCEEDED"
    assert "waiting:" not in project.cli("search-ctl", "show", "-t", "done", check=0).stdout
