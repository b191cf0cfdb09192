"""Bad input: one line naming the key path, exit code 2, no traceback, nothing under .search-run changed."""
import os

import pytest

GOOD_ARGS = [{"type": "Categorical", "name": "lr", "data": [0.1, 0.2]}]
TEMPLATE = "python train.py --lr {lr}"


def snapshot(root):
    out = {}
    for d, _, files in os.walk(root / ".search-run"):
        for f in files:
            path = os.path.join(d, f)
            out[path] = (os.path.getsize(path), os.path.getmtime(path))
    return out


CASES = [
    ("unknown arg type", TEMPLATE, [{"type": "Choice", "name": "lr", "data": [1]}], {},
     "task.search_args[0] (lr).type: unknown arg type 'Choice'; valid: Categorical, Int, Real, Nested, File"),
    ("missing name", TEMPLATE, [{"type": "Categorical", "data": [1]}], {}, "task.search_args[0].name:"),
    ("low > high", TEMPLATE, [{"type": "Real", "name": "lr", "data": [1.0, 0.1]}], {},
     "task.search_args[0] (lr).data: low <= high must hold, but got low=1.0, high=0.1"),
    ("placeholder without arg", TEMPLATE + " --bs {bs}", GOOD_ARGS, {}, "task.template: placeholder {bs} has no arg"),
    ("arg never used", TEMPLATE, GOOD_ARGS + [{"type": "Int", "name": "bs", "data": [1, 2]}], {},
     "task.search_args[1] (bs): arg 'bs' is never used in task.template"),
    ("File missing", TEMPLATE + " --c {cfg}", GOOD_ARGS + [{"type": "File", "name": "cfg", "file": "nope.yaml",
                                                           "search_args": GOOD_ARGS}], {},
     "task.search_args[1] (cfg).file: file"),
    ("wrong value type", TEMPLATE, [{"type": "Int", "name": "lr", "data": ["a", 3]}], {},
     "task.search_args[0] (lr).data[0]: expected an integer, got 'a'"),
    ("unknown searcher", TEMPLATE, GOOD_ARGS, {"searcher": {"type": "Genius"}},
     "searcher.type: unknown searcher 'Genius'; valid: BatchSearcher, "),
    ("bad on_missing_reward", TEMPLATE, GOOD_ARGS, {"searcher": {"on_missing_reward": "ignore"}},
     "searcher.on_missing_reward: expected one of warn, fail, got 'ignore'"),
    ("unknown searcher option", TEMPLATE, GOOD_ARGS, {"searcher": {"type": "RandomSearcher", "sed": 1}},
     "searcher.sed: unknown key for RandomSearcher; valid: "),
    ("grid over a continuous Real", TEMPLATE, [{"type": "Real", "name": "lr", "data": [0.1, 1.0]}], {},
     "task.search_args[0] (lr): GridSearcher: a Real arg is continuous and has no grid; give it a 'step'"),
    ("bad time limit", TEMPLATE, GOOD_ARGS, {"scheduler": {"stop_criterion": {"time_limits": "soon"}}},
     "search-run: error: scheduler.stop_criterion.time_limits: expected a duration such as 2 (hours), '30m' or "
     "'1h30m', got 'soon'"),
    ("bad searcher keyword", TEMPLATE, GOOD_ARGS, {"searcher": {"type": "TPESearcher", "n_ei_candidates": 0}},
     "searcher.n_ei_candidates: expected an integer >= 1, got 0"),
    ("bad launcher keyword", TEMPLATE, GOOD_ARGS, {"scheduler": {"launcher": {"type": "local", "gpus_per_job": -1}}},
     "scheduler.launcher.gpus_per_job: expected a number of GPUs >= 0, got -1"),
    ("launcher gpus as text", TEMPLATE, GOOD_ARGS, {"scheduler": {"launcher": {"type": "local", "gpus": "0,1"}}},
     "scheduler.launcher.gpus: expected a list of GPU ids, e.g. [0, 1] (not the text '0,1'), got '0,1'"),
    ("unknown stop key", TEMPLATE, GOOD_ARGS, {"scheduler": {"stop_criterion": {"max_trys": 3}}},
     "scheduler.stop_criterion.max_trys: unknown key; valid: max_tries"),
    ("unknown launcher key", TEMPLATE, GOOD_ARGS, {"scheduler": {"launcher": {"type": "local", "gpu": 1}}},
     "scheduler.launcher.gpu: unknown key for LocalLauncher; valid: gpus_per_job"),
    ("unknown launcher", TEMPLATE, GOOD_ARGS, {"scheduler": {"launcher": {"type": "kubernetes"}}},
     "scheduler.launcher.type: unknown launcher 'kubernetes'; valid:"),
    ("unknown assessor", TEMPLATE, GOOD_ARGS, {"scheduler": {"assessor": {"type": "Oracle"}}},
     "scheduler.assessor.type: unknown assessor 'Oracle'"),
]


@pytest.mark.parametrize("what,template,args,blocks,message", CASES, ids=[c[0] for c in CASES])
def test_bad_config_is_one_clear_line_and_changes_nothing(project, what, template, args, blocks, message):
    # a finished task already lives in .search-run: a bad config must not touch it
    good = project.write_config(TEMPLATE + " --epochs 1", GOOD_ARGS, name="good.yaml")
    project.cli("search-run", good, "-t", "existing", check=0)
    before = snapshot(project.root)
    cfg = project.write_config(template, args, **blocks)
    for task_args in (["-t", "new"], ["-t", "existing", "--resume"]):
        proc = project.cli("search-run", cfg, *task_args, check=2)
        assert proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert lines[0].startswith("search-run: error: ") and message in lines[0], lines[0]
    assert snapshot(project.root) == before


def test_missing_workspace_and_missing_config(tmp_path):
    import subprocess, sys
    bin_dir = os.path.dirname(sys.executable)
    proc = subprocess.run([os.path.join(bin_dir, "search-run"), "x.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2 and "run search-init in your project root first" in proc.stderr
    subprocess.run([os.path.join(bin_dir, "search-init")], cwd=tmp_path, check=True, capture_output=True)
    proc = subprocess.run([os.path.join(bin_dir, "search-run"), "x.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 2 and "x.yaml: the search config file does not exist" in proc.stderr


def test_bad_symlinks_path_leaves_no_task_behind(project):
    cfg = project.write_config(TEMPLATE, GOOD_ARGS)
    proc = project.cli("search-run", cfg, "-t", "links", "--symlinks", "data", check=2)
    assert "--symlinks[0]: 'data' does not exist" in proc.stderr
    assert not project.task_dir("links").exists()


def test_symlinks_are_linked_not_copied(project):
    (project.root / "data").mkdir()
    (project.root / "data" / "big.bin").write_bytes(b"x" * 1000)
    cfg = project.write_config(TEMPLATE + " --epochs 1 && test -f data/big.bin", GOOD_ARGS)
    project.cli("search-run", cfg, "-t", "links", "--symlinks", "data", check=0)
    copy = project.task_dir("links") / "code" / "data"
    assert copy.is_symlink() and os.readlink(copy) == str(project.root / "data")
    assert all(j["status"] == "SUCCEEDED" for j in project.jobs("links")["jobs"])


def test_export_and_import_of_a_task_with_symlinks(project, tmp_path):
    (project.root / "data").mkdir()
    cfg = project.write_config(TEMPLATE + " --epochs 1", GOOD_ARGS)
    project.cli("search-run", cfg, "-t", "linked", "--symlinks", "data", check=0)
    tar = tmp_path / "linked.tar.gz"
    project.cli("search-ctl", "export", "-t", "linked", "--tar-path", str(tar), check=0)
    out = project.cli("search-ctl", "import", "--tar-path", str(tar), "-t", "moved", check=0).stdout
    assert "not imported" in out and "code/data" in out
    moved = project.task_dir("moved")
    assert (moved / "jobs" / "tree" / "lr" / "0.1").is_symlink()        # links inside the task are kept
    assert len(project.jobs("moved")["jobs"]) == 2


def test_file_key_missing_from_the_file_is_refused_before_any_job(project):
    """A searched key the file does not hold would be added to each copy and change nothing: refused."""
    (project.root / "recipe.yaml").write_text("model:\n  hidden: 32\noptimizer:\n  lr: 0.1\n")
    args = GOOD_ARGS + [{"type": "File", "name": "recipe", "file": "recipe.yaml", "search_args": [
        {"type": "Categorical", "name": "model.hiden", "data": [16, 64]}]}]
    cfg = project.write_config(TEMPLATE + " && test -f {recipe}", args)
    proc = project.cli("search-run", cfg, "-t", "typo", check=2)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("search-run: error: task.search_args[1] (recipe).search_args[0] (model.hiden): "
                               "key 'model.hiden' is not in recipe.yaml (nearest existing keys: model.hidden")
    assert not project.task_dir("typo").exists()
    args[1]["allow_new_keys"] = True          # the explicit opt-in: the key is added to each job's copy
    cfg = project.write_config(TEMPLATE + " --epochs 1 && grep -q hiden {recipe}", args)
    project.cli("search-run", cfg, "-t", "opt-in", check=0)
    assert len(project.jobs("opt-in")["jobs"]) == 4
