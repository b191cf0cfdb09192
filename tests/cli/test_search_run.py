"""search-run / search-ctl end to end on real child processes."""
import os
import time

import yaml

GRID = [{"type": "Categorical", "name": "lr", "data": [0.1, 0.2, 0.3]},
        {"type": "Categorical", "name": "bs", "data": [16, 32]}]


def test_grid_search_end_to_end(project):
    cfg = project.write_config("python train.py --lr {lr} --bs {bs}", GRID, scheduler={"parallel_size": 2},
                               scalars=["acc", "loss"])
    run = project.cli("search-run", cfg, "--task", "grid", check=0)
    assert "FINISHED" in run.stderr and "best job" in run.stderr
    data = project.jobs("grid")
    jobs = data["jobs"]
    assert [j["id"] for j in jobs] == list(range(6))
    assert {(j["params"]["lr"], j["params"]["bs"]) for j in jobs} == {(a, b) for a in (0.1, 0.2, 0.3) for b in (16, 32)}
    assert all(j["status"] == "SUCCEEDED" for j in jobs)
    for j in jobs:
        assert abs(j["reward"] - 3 * j["params"]["lr"]) < 1e-9     # the last reported acc
        assert sorted(j["scalars"]) == ["acc", "loss"] and sorted(j["scalars"]["acc"]) == [0, 1, 2]
        assert os.path.isfile(j["log_path"]) and "bs" in open(j["log_path"]).read()
    assert data["task"]["best"]["params"]["lr"] == 0.3
    # the layout of docs/search-run.md
    task = project.task_dir("grid")
    assert (task / "run_config.yaml").is_file() and (task / "task.yaml").is_file()
    assert yaml.safe_load((task / "task.yaml").read_text())["status"] == "FINISHED"
    link = task / "jobs" / "tree" / "lr" / "0.2" / "bs" / "32"
    assert link.is_symlink() and os.path.realpath(link) == str(task / "jobs" / "all" / "3")
    assert (task / "code" / "train.py").is_file() and not (task / "code" / ".search-run").exists()
    summary = yaml.safe_load((project.root / ".search-run" / "summary.yaml").read_text())
    assert summary["tasks"]["grid"]["status"] == "FINISHED"
    # read side
    listing = project.cli("search-ctl", "show", check=0).stdout
    assert "grid" in listing and "FINISHED" in listing and "6/6" in listing
    top = project.cli("search-ctl", "show-scalar", "-t", "grid", "-rt", "+2", check=0).stdout.splitlines()
    assert top[2].split()[:2] == ["1", "4"] or top[2].split()[:2] == ["1", "5"]
    worst = project.cli("search-ctl", "show-scalar", "-t", "grid", "-rt", "-1", check=0).stdout.splitlines()
    assert abs(float(worst[2].split()[3]) - min(j["reward"] for j in jobs)) < 1e-6
    shown = project.cli("search-ctl", "show", "-t", "grid", "--jobs", "0,3", check=0).stdout
    rows = [line.split()[:2] for line in shown.splitlines() if line[:1].isdigit()]
    assert rows == [["0", "SUCCEEDED"], ["3", "SUCCEEDED"]]
    assert "command:  python train.py --lr 0.2 --bs 32" in shown and f"log:      {jobs[3]['log_path']}" in shown


def test_a_finished_task_is_not_run_again_and_names_are_checked(project):
    cfg = project.write_config("python train.py --lr {lr}", [GRID[0]])
    project.cli("search-run", cfg, "-t", "once", check=0)
    again = project.cli("search-run", cfg, "-t", "once", check=2)
    assert "exists already" in again.stderr and "Traceback" not in again.stderr
    resumed = project.cli("search-run", cfg, "-t", "once", "--resume", check=0)
    assert "no configuration left" in resumed.stderr
    assert len(project.jobs("once")["jobs"]) == 3
    assert project.cli("search-run", cfg, "-t", "../x", check=2).stderr.count("\n") == 1


def test_shell_injection_through_a_categorical_value_does_not_run(project):
    evil = ["x; touch PWNED", "$(touch PWNED)", "`touch PWNED`", "' ; touch PWNED ; '", "a\" ; touch PWNED ; \""]
    cfg = project.write_config("python train.py --bs '{bs}' --lr {lr}",
                               [{"type": "Categorical", "name": "bs", "data": evil},
                                {"type": "Categorical", "name": "lr", "data": ["0.1; touch PWNED"]}])
    project.cli("search-run", cfg, "-t", "inject", check=0)
    jobs = project.jobs("inject")["jobs"]
    # --lr got the whole string, which is not a float: argparse refuses it, and nothing else ran
    assert all(j["status"] == "ERROR" for j in jobs)
    assert all("invalid float value: '0.1; touch PWNED'" in j["error"] for j in jobs)
    found = [os.path.join(d, f) for d, _, files in os.walk(project.root) for f in files if f == "PWNED"]
    assert found == []


def test_a_crashing_job_is_error_with_exit_code_and_log_tail(project):
    cfg = project.write_config("python train.py --lr {lr} --exit {code}",
                               [{"type": "Categorical", "name": "lr", "data": [0.1]},
                                {"type": "Categorical", "name": "code", "data": [0, 3]}])
    project.cli("search-run", cfg, "-t", "crash", check=0)
    jobs = {j["params"]["code"]: j for j in project.jobs("crash")["jobs"]}
    assert jobs[0]["status"] == "SUCCEEDED"
    assert jobs[3]["status"] == "ERROR" and jobs[3]["exit_code"] == 3
    assert "exited with code 3" in jobs[3]["error"] and "boom: failing on purpose" in jobs[3]["error"]
    shown = project.cli("search-ctl", "show", "-t", "crash", check=0).stdout
    assert "boom: failing on purpose" in shown


def test_a_job_killed_by_a_signal_is_error_naming_the_signal(project):
    cfg = project.write_config("python train.py --lr {lr} --epochs 1 && kill -9 $$",
                               [{"type": "Categorical", "name": "lr", "data": [0.1]}])
    project.cli("search-run", cfg, "-t", "sig", check=0)
    job = project.jobs("sig")["jobs"][0]
    assert job["status"] == "ERROR" and "SIGKILL" in job["error"]


def test_time_limit_per_job_ends_the_whole_tree(project, processes_of):
    cfg = project.write_config("python train.py --lr {lr} --sleep 0.3 --epochs 100 --child",
                               [{"type": "Categorical", "name": "lr", "data": [0.1, 0.2]}],
                               scheduler={"parallel_size": 2, "stop_criterion": {"time_limits_per_job": "2s"}})
    started = time.monotonic()
    project.cli("search-run", cfg, "-t", "slow", check=0)
    assert time.monotonic() - started < 30
    jobs = project.jobs("slow")["jobs"]
    assert [j["status"] for j in jobs] == ["TIMEOUT", "TIMEOUT"]
    assert all(j["reward"] is not None for j in jobs), "the partial curve gives the reward"
    assert processes_of(project.root) == []


def test_stop_criteria_max_tries_and_max_reward(project):
    space = [{"type": "Real", "name": "lr", "data": [0.1, 1.0], "step": 0.1}]
    cfg = project.write_config("python train.py --lr {lr} --epochs 1", space,
                               searcher={"type": "GridSearcher"}, scheduler={"stop_criterion": {"max_tries": 3}})
    out = project.cli("search-run", cfg, "-t", "tries", check=0)
    assert "max_tries=3 reached" in out.stderr and len(project.jobs("tries")["jobs"]) == 3
    cfg = project.write_config("python train.py --lr {lr} --epochs 1", space, name="s2.yaml",
                               scheduler={"stop_criterion": {"max_reward": 0.45}})
    project.cli("search-run", cfg, "-t", "reward", check=0)
    jobs = project.jobs("reward")["jobs"]
    assert [round(j["params"]["lr"], 1) for j in jobs] == [0.1, 0.2, 0.3, 0.4, 0.5]


def test_filter_criterion_drops_configurations(project):
    cfg = project.write_config("python train.py --lr {lr} --bs {bs} --epochs 1", GRID,
                               scheduler={"filter_criterion": [{"type": "DropParams", "drop": [{"bs": 16}]}]})
    project.cli("search-run", cfg, "-t", "filtered", check=0)
    jobs = project.jobs("filtered")["jobs"]
    assert sorted((j["params"]["bs"], j["status"]) for j in jobs) == [(16, "FILTERED")] * 3 + [(32, "SUCCEEDED")] * 3


def test_gpu_slots_pack_jobs_onto_free_gpus(project):
    """Two visible GPUs, one per job, four parallel slots: at most two jobs at once, each on its own GPU."""
    cfg = project.write_config(
        "python -c 'import os; print(os.environ[\"CUDA_VISIBLE_DEVICES\"])' && python train.py --lr {lr} --sleep 0.3",
        [{"type": "Categorical", "name": "lr", "data": [0.1, 0.2, 0.3, 0.4]}],
        scheduler={"parallel_size": 4, "launcher": {"type": "local", "gpus_per_job": 1}})
    project.cli("search-run", cfg, "-t", "gpus", check=0, env={"CUDA_VISIBLE_DEVICES": "3,5"})
    jobs = project.jobs("gpus")["jobs"]
    seen = [open(j["log_path"]).read().split()[0] for j in jobs]
    assert set(seen) == {"3", "5"}
    spans = sorted((j["start_time"], j["end_time"], s) for j, s in zip(jobs, seen))
    for a, b in zip(spans, spans[1:]):        # jobs on the same GPU never overlap
        if a[2] == b[2]:
            assert a[1] <= b[0]
    too_many = project.write_config("python train.py --lr {lr}", [GRID[0]], name="g3.yaml",
                                    scheduler={"launcher": {"type": "local", "gpus_per_job": 3}})
    err = project.cli("search-run", too_many, "-t", "g3", check=2, env={"CUDA_VISIBLE_DEVICES": "0,1"}).stderr
    assert "scheduler.launcher.gpus_per_job: 3 GPU(s) per job requested but 2 visible" in err


def test_rm_export_import(project, tmp_path):
    cfg = project.write_config("python train.py --lr {lr} --epochs 1", [GRID[0]])
    project.cli("search-run", cfg, "-t", "keep", check=0)
    tar = tmp_path / "keep.tar.gz"
    project.cli("search-ctl", "export", "-t", "keep", "--tar-path", str(tar), check=0)
    project.cli("search-ctl", "import", "--tar-path", str(tar), check=2)         # exists
    project.cli("search-ctl", "import", "--tar-path", str(tar), "-t", "copy", check=0)
    copy = project.jobs("copy")
    assert copy["task"]["status"] == "FINISHED" and len(copy["jobs"]) == 3
    assert all(j["log_path"].startswith(str(project.task_dir("copy"))) for j in copy["jobs"])
    project.cli("search-ctl", "rm", "-t", "keep", check=0)
    assert not project.task_dir("keep").exists()
    listing = project.cli("search-ctl", "show", check=0).stdout
    assert "REMOVED" in listing and "copy" in listing
    assert "no task 'keep'" in project.cli("search-ctl", "show", "-t", "keep", check=2).stderr


def test_file_and_nested_args_end_to_end(project):
    (project.root / "cfg.yaml").write_text("train: {epochs: 1, lr: 0.5}\nname: base\n")
    reader = ("python -c 'import sys, yaml, gml; c = yaml.safe_load(open(sys.argv[1])); "
              "gml.report(step=0, acc=c[\"train\"][\"lr\"] * c[\"train\"][\"epochs\"] + float(sys.argv[2]))'")
    cfg = project.write_config(
        reader + " '{config}' {bonus}",
        [{"type": "Nested", "data": [{"bonus": 0}, {"bonus": 10}]},
         {"type": "File", "name": "config", "file": "cfg.yaml", "search_args": [
             {"type": "Categorical", "name": "train.epochs", "data": [2, 3]},
             {"type": "Nested", "data": [{"train.lr": 0.1, "name": "a"}, {"train.lr": 0.2, "name": "b"}]}]}],
        searcher={"type": "GridSearcher"})
    project.cli("search-run", cfg, "-t", "files", check=0)
    jobs = project.jobs("files")["jobs"]
    assert len(jobs) == 8 and all(j["status"] == "SUCCEEDED" for j in jobs)
    for j in jobs:
        p = j["params"]
        assert set(p) == {"bonus", "config(train.epochs)", "config(train.lr)", "config(name)", "config"}
        assert abs(j["reward"] - (p["config(train.lr)"] * p["config(train.epochs)"] + p["bonus"])) < 1e-9
        written = yaml.safe_load(open(p["config"]))
        assert written["train"]["epochs"] == p["config(train.epochs)"] and written["name"] == p["config(name)"]
        assert os.path.dirname(p["config"]) == str(project.task_dir("files") / "jobs" / "all" / str(j["id"]))
    assert yaml.safe_load((project.root / "cfg.yaml").read_text())["train"]["epochs"] == 1
