"""LocalLauncher on real processes: exit codes, cancel of whole trees, adoption and recovery after a restart."""
import os
import time

import pytest

from gml.errors import GmlConfigError
from gml.launchers.base import JobSpec, JobState
from gml.launchers.gpus import GpuSlots
from gml.launchers.local import LocalLauncher
from gml.testing.launchers import wait_done


def spec(tmp_path, command, job_id=0):
    job_dir = tmp_path / f"job{job_id}"
    job_dir.mkdir(exist_ok=True)
    return JobSpec(job_id, "t", command, str(tmp_path), str(job_dir), str(job_dir / "log"),
                   env={"GML_JOB_DIR": str(job_dir)})


def test_exit_codes_and_signals(tmp_path):
    launcher = LocalLauncher()
    ok = launcher.submit(spec(tmp_path, "echo hello", 0))
    bad = launcher.submit(spec(tmp_path, "exit 7", 1))
    sig = launcher.submit(spec(tmp_path, "kill -TERM $$", 2))
    assert wait_done(launcher, [ok], 20)[ok].state == JobState.SUCCEEDED
    assert open(tmp_path / "job0" / "log").read() == "hello\n"
    status = wait_done(launcher, [bad], 20)[bad]
    assert (status.state, status.exit_code, status.message) == (JobState.FAILED, 7, "exited with code 7")
    assert "SIGTERM" in wait_done(launcher, [sig], 20)[sig].message


def test_cancel_ends_the_whole_tree_even_children_that_left_the_group(tmp_path, pid_alive):
    launcher = LocalLauncher(kill_grace=1.0)
    command = ("sleep 300 & setsid sleep 301 & trap '' TERM; "   # ignores SIGTERM: needs the SIGKILL escalation
               "echo $! > pids; sleep 302")
    s = spec(tmp_path, command)
    eid = launcher.submit(s)
    time.sleep(0.5)
    pid = int(eid.split(":")[0])
    from gml.launchers import proctree
    tree = proctree.descendants(pid)
    assert len(tree) >= 3
    launcher.cancel(eid)
    assert wait_done(launcher, [eid], 20)[eid].state == JobState.CANCELLED
    time.sleep(0.2)
    assert [p for p in tree + [pid] if pid_alive(p)] == []


def test_background_children_are_cleaned_up_when_a_job_ends(tmp_path, pid_alive):
    launcher = LocalLauncher()
    eid = launcher.submit(spec(tmp_path, "sleep 300 & echo $! > bg; true"))
    assert wait_done(launcher, [eid], 20)[eid].state == JobState.SUCCEEDED
    time.sleep(0.1)
    assert not pid_alive(int((tmp_path / "bg").read_text()))


def test_a_new_launcher_adopts_running_jobs_and_reads_exit_codes_of_finished_ones(tmp_path):
    first = LocalLauncher()
    running = spec(tmp_path, "sleep 1; exit 3", 0)
    done = spec(tmp_path, "exit 0", 1)
    eid_running, eid_done = first.submit(running), first.submit(done)
    wait_done(first, [eid_done], 20)
    second = LocalLauncher()                  # the controller restarted
    assert second.adopt(eid_running, running)
    assert not second.adopt(eid_done, done)
    assert second.poll([eid_done])[eid_done].state == JobState.SUCCEEDED
    status = wait_done(second, [eid_running], 20)[eid_running]
    assert (status.state, status.exit_code) == (JobState.FAILED, 3)
    assert second.poll(["999999:1:"])["999999:1:"].state == JobState.LOST


def test_recover_finds_a_job_whose_id_was_never_recorded(tmp_path):
    first = LocalLauncher()
    s = spec(tmp_path, "sleep 2")
    eid = first.submit(s)
    time.sleep(0.3)
    found = LocalLauncher().recover(s)
    assert found is not None and found.split(":")[:2] == eid.split(":")[:2]
    assert LocalLauncher().recover(spec(tmp_path, "true", 5)) is None
    first.cancel(eid)


def test_gpu_slots():
    whole = GpuSlots(["0", "1", "2", "3"], 2)
    assert whole.free_jobs() == 2
    a, b = whole.take(), whole.take()
    assert sorted(a + b) == ["0", "1", "2", "3"] and whole.free_jobs() == 0
    with pytest.raises(RuntimeError):
        whole.take()
    whole.release(a)
    assert whole.take() == a
    half = GpuSlots(["0", "1"], 0.5)
    assert half.free_jobs() == 4
    got = [half.take() for _ in range(4)]
    assert sorted(g[0] for g in got) == ["0", "0", "1", "1"]
    assert GpuSlots([], 0).free_jobs() is None and GpuSlots([], 0).take() == []
    for bad in (1.5, 0.3, -1):
        with pytest.raises(GmlConfigError, match=f"^gpus_per_job: expected .*, got {bad}$"):
            GpuSlots(["0", "1"], bad)


def test_gpus_keyword_takes_a_list_of_ids():
    assert LocalLauncher(gpus_per_job=1, gpus=[0, "1"]).slots.free_jobs() == 2
    for bad in ("0,1", 3, [0, None], [True], [""]):
        with pytest.raises(GmlConfigError, match=r"^gpus: expected a list of GPU ids"):
            LocalLauncher(gpus_per_job=1, gpus=bad)
