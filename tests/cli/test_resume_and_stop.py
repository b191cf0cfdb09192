"""A search survives its controller being killed, interrupted or stopped, and loses nothing."""
import os
import signal
import time
from collections import Counter

import pytest

SPACE = [{"type": "Categorical", "name": "lr", "data": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}]


def wait_for(predicate, timeout=30, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def finished_jobs(project, task):
    root = project.task_dir(task) / "jobs" / "all"
    if not root.exists():
        return 0
    return sum((root / d / "exit_code").exists() for d in os.listdir(root))


@pytest.mark.parametrize("kill_after_finished", [0, 1, 3])
def test_kill_9_then_resume_runs_every_configuration_exactly_once(project, processes_of, kill_after_finished):
    record = project.root / "starts.txt"
    cfg = project.write_config(f"python train.py --lr {{lr}} --sleep 0.4 --record {record}", SPACE,
                               scheduler={"parallel_size": 2})
    ctl = project.start("search-run", cfg, "-t", "k9")
    wait_for(lambda: finished_jobs(project, "k9") >= kill_after_finished and len(processes_of(project.root)) >= 1,
             what="jobs to run")
    ctl.send_signal(signal.SIGKILL)
    ctl.wait()
    status = project.cli("search-ctl", "show", check=0).stdout
    assert "INTERRUPTED" in status
    resumed = project.cli("search-run", cfg, "-t", "k9", "--resume", check=0)
    assert "FINISHED" in resumed.stderr
    jobs = project.jobs("k9")["jobs"]
    assert sorted(j["params"]["lr"] for j in jobs) == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    assert all(j["status"] == "SUCCEEDED" for j in jobs), [(j["id"], j["status"], j.get("error")) for j in jobs]
    starts = Counter(line.split()[0] for line in record.read_text().splitlines())
    assert set(starts.values()) == {1}, f"a configuration ran twice: {starts}"
    assert processes_of(project.root) == []


def test_ctrl_c_ends_jobs_as_error_and_resume_reruns_them(project, processes_of):
    cfg = project.write_config("python train.py --lr {lr} --sleep 0.5 --child", SPACE, scheduler={"parallel_size": 2})
    ctl = project.start("search-run", cfg, "-t", "intr")
    wait_for(lambda: len(processes_of(project.root)) >= 2, what="jobs to start")
    ctl.send_signal(signal.SIGINT)
    out, _ = ctl.communicate(timeout=30)
    assert ctl.returncode == 130 and "INTERRUPTED" in out
    assert processes_of(project.root) == [], "Ctrl+C leaves no job process behind"
    jobs = project.jobs("intr")["jobs"]
    interrupted = [j["id"] for j in jobs if j["status"] == "ERROR"]
    assert interrupted and all("interrupted" in j["error"] for j in jobs if j["status"] == "ERROR")
    resumed = project.cli("search-run", cfg, "-t", "intr", "--resume", check=0)
    assert "FINISHED" in resumed.stderr
    jobs = project.jobs("intr")["jobs"]
    assert len(jobs) == 6 and all(j["status"] == "SUCCEEDED" for j in jobs)
    assert all(j.get("attempt") == 2 for j in jobs if j["id"] in interrupted)
    assert os.path.exists(jobs[interrupted[0]]["log_path"] + ".attempt1"), "the first attempt's log is kept"


def test_search_ctl_stop_kills_running_jobs(project, processes_of):
    cfg = project.write_config("python train.py --lr {lr} --sleep 5 --child", SPACE, scheduler={"parallel_size": 2})
    ctl = project.start("search-run", cfg, "-t", "stopme")
    wait_for(lambda: len(processes_of(project.root)) >= 4, what="jobs and their children to start")
    stopped = project.cli("search-ctl", "stop", "-t", "stopme", check=0)
    assert "stopped stopme" in stopped.stdout
    out, _ = ctl.communicate(timeout=30)
    assert ctl.returncode == 0 and "STOPPED" in out
    assert processes_of(project.root) == []
    statuses = Counter(j["status"] for j in project.jobs("stopme")["jobs"])
    assert statuses == {"KILLED": 2}
    assert "STOPPED" in project.cli("search-ctl", "show", check=0).stdout


def test_stop_without_a_controller_ends_adopted_jobs(project, processes_of):
    cfg = project.write_config("python train.py --lr {lr} --sleep 5", SPACE, scheduler={"parallel_size": 2})
    ctl = project.start("search-run", cfg, "-t", "orphan")
    wait_for(lambda: len(processes_of(project.root)) >= 2, what="jobs to start")
    time.sleep(0.3)
    ctl.send_signal(signal.SIGKILL)
    ctl.wait()
    project.cli("search-ctl", "stop", "-t", "orphan", check=0)
    assert processes_of(project.root) == []
    assert {j["status"] for j in project.jobs("orphan")["jobs"]} == {"KILLED"}


def test_a_second_controller_on_the_same_task_is_refused(project):
    cfg = project.write_config("python train.py --lr {lr} --sleep 1",
                               [{"type": "Categorical", "name": "lr", "data": [0.1]}])
    ctl = project.start("search-run", cfg, "-t", "busy")
    wait_for(lambda: (project.task_dir("busy") / "state.db").exists(), what="the task to exist")
    time.sleep(0.3)
    second = project.cli("search-run", cfg, "-t", "busy", "--resume", check=3)
    assert "already running" in second.stderr and "Traceback" not in second.stderr
    out, _ = ctl.communicate(timeout=60)
    assert ctl.returncode == 0, out


def test_resume_with_a_different_space_is_refused(project):
    cfg = project.write_config("python train.py --lr {lr} --epochs 1",
                               [{"type": "Categorical", "name": "lr", "data": [0.1]}])
    project.cli("search-run", cfg, "-t", "space", check=0)
    other = project.write_config("python train.py --lr {lr} --epochs 1",
                                 [{"type": "Categorical", "name": "lr", "data": [0.1, 0.2]}], name="other.yaml")
    err = project.cli("search-run", other, "-t", "space", "--resume", check=2).stderr
    assert err.startswith("search-run: error: task.search_args: differs from the search space")


def test_resume_reruns_error_jobs_with_the_fixed_template(project):
    space = [{"type": "Categorical", "name": "lr", "data": [0.1, 0.2]}]
    broken = project.write_config("python train.py --lr {lr} --epochs 1 --no-such-flag", space)
    project.cli("search-run", broken, "-t", "fixme", check=0)
    assert {j["status"] for j in project.jobs("fixme")["jobs"]} == {"ERROR"}
    fixed = project.write_config("python train.py --lr {lr} --epochs 1", space)
    project.cli("search-run", fixed, "-t", "fixme", "--resume", check=0)
    jobs = project.jobs("fixme")["jobs"]
    assert [(j["id"], j["status"], j["attempt"]) for j in jobs] == [(0, "SUCCEEDED", 2), (1, "SUCCEEDED", 2)]
    assert all("--no-such-flag" not in j["command"] for j in jobs)


def test_show_gives_running_jobs_their_value_so_far(project):
    cfg = project.write_config("python train.py --lr {lr} --sleep 1 --epochs 20",
                               [{"type": "Categorical", "name": "lr", "data": [0.5]}])
    ctl = project.start("search-run", cfg, "-t", "live")
    wait_for(lambda: "so far" in project.cli("search-ctl", "show", "-t", "live").stdout, what="a value so far")
    row = [line for line in project.cli("search-ctl", "show", "-t", "live", check=0).stdout.splitlines()
           if line.startswith("0 ")][0]
    assert "RUNNING" in row and "(step" in row
    project.cli("search-ctl", "stop", "-t", "live", check=0)
    ctl.wait(timeout=30)


def test_a_creation_killed_before_its_store_was_written_is_made_again(project):
    """What search-run leaves when killed while it creates a task: a directory, part of the copy, no store."""
    half = project.task_dir("half")
    (half / "code").mkdir(parents=True)
    (half / "code" / "leftover.py").write_text("# half copied\n")
    cfg = project.write_config("python train.py --lr {lr} --epochs 1",
                               [{"type": "Categorical", "name": "lr", "data": [0.1, 0.2, 0.3]}])
    project.cli("search-run", cfg, "-t", "half", "--resume", check=0)
    assert [j["status"] for j in project.jobs("half")["jobs"]] == ["SUCCEEDED"] * 3
    assert not (half / "code" / "leftover.py").exists() and (half / "code" / "train.py").is_file()
    assert "no task 'never' to resume" in project.cli("search-run", cfg, "-t", "never", "--resume", check=2).stderr
