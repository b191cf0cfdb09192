"""Each job runs in its own working directory: what a training writes there (Lightning's lightning_logs/version_N)
never mixes with another job's, while relative paths, project imports, --symlinks paths and File copies resolve."""
import os
import textwrap

import pytest
import yaml

# Picks its log directory as Lightning's loggers do (the next free lightning_logs/version_N in the working
# directory), holds it a while (so that parallel jobs overlap), and reads the project the usual ways.
LIGHTNING_STYLE = textwrap.dedent('''
    import os, sys, time
    import gml
    from mypkg.model import HIDDEN                       # the project's own package, imported from the cwd
    root = "lightning_logs"
    os.makedirs(root, exist_ok=True)
    taken = [int(n.split("_")[1]) for n in os.listdir(root) if n.startswith("version_")]
    version = os.path.join(root, f"version_{max(taken) + 1 if taken else 0}")
    os.makedirs(version)
    with open(os.path.join(version, "owner"), "a") as f:
        f.write(os.environ["GML_JOB_ID"] + "\\n")
    started = time.time()
    time.sleep(1.0)
    recipe = open(sys.argv[1]).read()                     # the File arg's copy (an absolute path)
    data = open("data/values.txt").read().split()         # a --symlinks path, relative to the cwd
    with open("outputs.txt", "w") as f:                   # a new file at the top of the cwd
        f.write(recipe)
    gml.report(step=0, acc=float(data[0]) * HIDDEN * float(sys.argv[2]))
    with open(os.path.join(version, "span"), "w") as f:
        f.write(f"{started} {time.time()}")
''')


def test_parallel_jobs_each_write_their_own_lightning_logs(project):
    root = project.root
    (root / "fit.py").write_text(LIGHTNING_STYLE)
    (root / "mypkg").mkdir()
    (root / "mypkg" / "__init__.py").write_text("")
    (root / "mypkg" / "model.py").write_text("HIDDEN = 2\n")
    (root / "data").mkdir()
    (root / "data" / "values.txt").write_text("3\n")
    (root / "recipe.yaml").write_text("model: {width: 8}\n")
    (root / "lightning_logs" / "version_0").mkdir(parents=True)      # a stale run of the user's
    (root / "lightning_logs" / "version_0" / "owner").write_text("user\n")
    (root / "mlruns").mkdir()
    cfg = project.write_config("python fit.py {recipe} {scale}", [
        {"type": "Categorical", "name": "scale", "data": [1, 2, 3, 4]},
        {"type": "File", "name": "recipe", "file": "recipe.yaml",
         "search_args": [{"type": "Categorical", "name": "model.width", "data": [16]}]}],
        scheduler={"parallel_size": 4})
    project.cli("search-run", cfg, "-t", "lit", "--symlinks", "data", check=0)

    task = project.task_dir("lit")
    assert not (task / "code" / "lightning_logs").exists() and not (task / "code" / "mlruns").exists(), \
        "logger output of the user's is not copied into the task"
    jobs = project.jobs("lit")["jobs"]
    assert sorted(j["reward"] for j in jobs) == [6.0, 12.0, 18.0, 24.0]
    spans = []
    for j in jobs:
        cwd = task / "jobs" / "all" / str(j["id"]) / "cwd"
        assert j["run_path"] == str(cwd)
        assert os.listdir(cwd / "lightning_logs") == ["version_0"]
        assert (cwd / "lightning_logs" / "version_0" / "owner").read_text() == f"{j['id']}\n"
        assert yaml.safe_load((cwd / "outputs.txt").read_text()) == {"model": {"width": 16}}
        assert (cwd / "fit.py").is_symlink() and os.readlink(cwd / "fit.py") == "../../../../code/fit.py"
        assert os.path.realpath(cwd / "data") == str(root / "data")
        spans.append([float(t) for t in (cwd / "lightning_logs" / "version_0" / "span").read_text().split()])
    assert (root / "lightning_logs" / "version_0" / "owner").read_text() == "user\n"
    assert not (task / "code" / "outputs.txt").exists()
    assert max(s for s, _ in spans) < min(e for _, e in spans), "the four jobs ran at the same time"


def test_a_rerun_starts_in_a_fresh_working_directory(project):
    """A job run again (ERROR, then --resume) keeps its earlier working directory aside as cwd.attempt1."""
    (project.root / "flaky.sh").write_text(
        'mkdir -p lightning_logs/version_0 && echo "$GML_JOB_ID" > lightning_logs/version_0/owner\n'
        'test -f "$GML_TASK_DIR/fixed" || exit 3\n'
        'python -c "import gml; gml.report(step=0, acc=1.0)"\n')
    cfg = project.write_config("bash flaky.sh {x}", [{"type": "Categorical", "name": "x", "data": [1]}])
    project.cli("search-run", cfg, "-t", "rerun", check=0)
    task = project.task_dir("rerun")
    assert project.jobs("rerun")["jobs"][0]["status"] == "ERROR"
    (task / "fixed").write_text("")
    project.cli("search-run", cfg, "-t", "rerun", "--resume", check=0)
    assert project.jobs("rerun")["jobs"][0]["status"] == "SUCCEEDED"
    job_dir = task / "jobs" / "all" / "0"
    assert os.listdir(job_dir / "cwd" / "lightning_logs") == ["version_0"]
    assert os.listdir(job_dir / "cwd.attempt1" / "lightning_logs") == ["version_0"]


# Writes TensorBoard event files where Lightning's default logger puts them: lightning_logs/version_N, relative to
# the working directory (not under $GML_JOB_DIR).
TB_RELATIVE = textwrap.dedent('''
    import os, sys, time
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    root = "lightning_logs"
    taken = [int(n.split("_")[1]) for n in os.listdir(root)] if os.path.isdir(root) else []
    writer = EventFileWriter(os.path.join(root, f"version_{max(taken) + 1 if taken else 0}"))
    for epoch in range(3):
        time.sleep(0.3)
        writer.add_event(Event(step=epoch, wall_time=time.time(), summary=Summary(value=[
            Summary.Value(tag="val_acc", simple_value=float(sys.argv[1]) * (epoch + 1))])))
        writer.flush()
    writer.close()
''')


def test_event_files_written_relative_to_the_working_directory_are_each_jobs_own(project):
    pytest.importorskip("tensorboard")
    (project.root / "tb.py").write_text(TB_RELATIVE)
    cfg = project.write_config("python tb.py {x}", [{"type": "Categorical", "name": "x", "data": [1, 2, 3]}],
                               searcher={"reward_attribute": "val_acc"}, scheduler={"parallel_size": 3})
    project.cli("search-run", cfg, "-t", "tb", check=0)
    jobs = project.jobs("tb")["jobs"]
    assert {j["params"]["x"]: j["reward"] for j in jobs} == {1: 3.0, 2: 6.0, 3: 9.0}
    for j in jobs:
        assert sorted(j["scalars"]["val_acc"]) == [0, 1, 2], "one run's steps per job, none of another's"
