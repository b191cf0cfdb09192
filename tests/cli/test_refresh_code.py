"""--resume says how the project differs from the task's copy; --refresh-code copies it again for jobs that
start from then on, while jobs that ran keep theirs."""
import os

GRID = [{"type": "Categorical", "name": "x", "data": [1, 2, 3]}]


def config(project, tries):
    return project.write_config("python score.py {x}", GRID, searcher={"type": "GridSearcher"},
                                scheduler={"stop_criterion": {"max_tries": tries}})


def rewards(project, task):
    return {j["id"]: j["reward"] for j in project.jobs(task)["jobs"]}


def test_resume_names_the_differences_and_refresh_code_copies_again(project):
    root = project.root
    (root / "score.py").write_text("import gml, sys\ngml.report(step=0, acc=float(sys.argv[1]) * 1)\n")
    (root / "helper.py").write_text("X = 1\n")
    (root / "notes.txt").write_text("notes\n")
    project.cli("search-run", config(project, 1), "-t", "t", check=0)
    assert rewards(project, "t") == {0: 1.0}

    # same size, new bytes (found by content); touched only (not a change); removed; new; logger output (ignored)
    (root / "score.py").write_text("import gml, sys\ngml.report(step=0, acc=float(sys.argv[1]) * 2)\n")
    os.utime(root / "notes.txt", (1, 1))
    (root / "helper.py").unlink()
    (root / "extra.py").write_text("Y = 2\n")
    (root / "lightning_logs").mkdir()
    (root / "lightning_logs" / "events").write_text("x")
    err = project.cli("search-run", config(project, 2), "-t", "t", "--resume", check=0).stderr
    assert "[t] the project differs from the task's copy of it (.search-run/tasks/t/code)" in err
    # (search.yaml: the config rewritten by this test; t-jobs.yaml: written by project.jobs)
    assert "  changed: score.py, search.yaml\n  new: extra.py, t-jobs.yaml\n  removed: helper.py\n" in err, err
    assert "notes.txt" not in err and "lightning_logs" not in err
    assert "--refresh-code" in err
    assert rewards(project, "t") == {0: 1.0, 1: 2.0}, "without --refresh-code jobs run the task's copy"

    err = project.cli("search-run", config(project, 3), "-t", "t", "--resume", "--refresh-code", check=0).stderr
    assert "--refresh-code: copied the project to .search-run/tasks/t/code.2" in err
    assert rewards(project, "t") == {0: 1.0, 1: 2.0, 2: 6.0}, "the job started after the refresh runs the new code"
    task = project.task_dir("t")
    assert os.path.realpath(task / "jobs" / "all" / "2" / "cwd" / "score.py") == str(task / "code.2" / "score.py")
    assert os.path.realpath(task / "jobs" / "all" / "0" / "cwd" / "score.py") == str(task / "code" / "score.py")
    assert "* 1)" in (task / "code" / "score.py").read_text(), "the copy earlier jobs ran on is left as it was"

    err = project.cli("search-run", config(project, 3), "-t", "t", "--resume", check=0).stderr
    listed = [line for line in err.splitlines() if line.startswith("  ")]
    assert listed == ["  changed: t-jobs.yaml"], "compared with the current copy (code.2)"


def test_refresh_code_needs_resume(project):
    (project.root / "score.py").write_text("print(1)\n")
    proc = project.cli("search-run", config(project, 1), "-t", "n", "--refresh-code", check=2)
    assert "search-run: error: --refresh-code: only with --resume" in proc.stderr
    assert not project.task_dir("n").exists()
