"""RayLauncher on a real local Ray head that the launcher starts for the task (one start per test: ~15 s here)."""
import os

import pytest

from gml.errors import GmlConfigError
from gml.launchers import proctree, ray_local
from gml.registry import LAUNCHERS

import launcher_helpers as h

pytestmark = [pytest.mark.ray]


def ray_processes(task_dir: str):
    """Living processes that belong to the task's Ray head: their command line or environment names its files."""
    marks = [os.path.join(task_dir, "ray").encode(), ray_local.short_temp_path(task_dir).encode()]
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or proctree.start_time(int(pid)) is None:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                text = f.read()
            with open(f"/proc/{pid}/environ", "rb") as f:
                text += f.read()
        except OSError:
            continue
        if any(m in text for m in marks):
            found.append(int(pid))
    return found


def test_config_and_unreachable_cluster(tmp_path):
    with pytest.raises(GmlConfigError) as err:
        LAUNCHERS.build({"type": "ray", "num_cpu": 1}, "scheduler.launcher")
    assert "scheduler.launcher.num_cpu" in str(err.value) and "num_cpus" in str(err.value)
    with pytest.raises(GmlConfigError, match=r"^scheduler\.launcher\.num_gpus: expected a number >= 0, got -1$"):
        LAUNCHERS.build({"type": "RayLauncher", "num_gpus": -1}, "scheduler.launcher")
    # jobs that can never fit on the local head it would start are refused before anything runs
    with pytest.raises(GmlConfigError, match=r"scheduler\.launcher\.num_gpus: each job asks for 1 GPUs but the "
                                             r"local Ray head has 0"):
        LAUNCHERS.build({"type": "ray", "num_gpus": 1, "local_num_gpus": 0}, "scheduler.launcher")
    with pytest.raises(GmlConfigError, match=r"scheduler\.launcher\.num_cpus: each job asks for 64 CPUs"):
        LAUNCHERS.build({"type": "ray", "num_cpus": 64, "local_num_cpus": 2}, "scheduler.launcher")
    assert LAUNCHERS.build({"type": "ray", "address": "auto", "num_gpus": 8}, "scheduler.launcher").num_gpus == 8
    # a cluster that cannot be reached: every job is refused with the reason, the search ends
    root = h.project(tmp_path, {"type": "ray", "address": "http://127.0.0.1:9"}, h.REPORT, [1, 2])
    out = h.run(root, "t", timeout=120)
    jobs = h.jobs(root, "t")
    assert jobs and all(j.status.value == "ERROR" for j in jobs), out.stdout + out.stderr
    assert "cannot reach the Ray cluster" in jobs[0].error


@pytest.mark.slow
def test_search_time_limit_on_local_ray(tmp_path):
    """A full search (parallel 2) on a local head started on demand; one job over its time limit; the head and
    every process it started are gone at the end, and its files are under the task directory. (The slow job goes
    first: the controller counts a job's time from its submission, which here includes starting Ray.)"""
    root = h.project(tmp_path, {"type": "ray", "local_num_cpus": 4}, "pwd > here; if [ {x} = 9 ]; then sleep 120; "
                     "fi; " + h.REPORT, [9, 0.25, 0.5], per_job="15s")
    out = h.run(root, "t", timeout=240)
    assert out.returncode == 0, out.stdout + out.stderr
    jobs = {j.params["x"]: j for j in h.jobs(root, "t")}
    assert jobs[0.25].status.value == "SUCCEEDED" and jobs[0.25].reward == 0.25
    assert jobs[0.5].status.value == "SUCCEEDED" and jobs[0.5].reward == 0.5
    assert jobs[9].status.value == "TIMEOUT"
    for x in (0.25, 0.5):
        h.assert_own_working_directory(root, "t", jobs[x])
    task_dir = h.task_dir(root, "t")
    assert any(n.startswith("session_") for n in os.listdir(os.path.join(task_dir, "ray")))
    assert ray_local.read_state(task_dir) is None
    assert ray_processes(task_dir) == []


@pytest.mark.slow
def test_kill9_resume_adopts_then_stop_on_local_ray(tmp_path):
    root = h.project(tmp_path, {"type": "ray", "local_num_cpus": 4}, "sleep 8; " + h.REPORT, [0.1, 0.2, 0.3])
    task_dir = h.task_dir(root, "t")
    proc = h.start(root, "t")
    try:
        h.wait_for(h.running(root, "t", 2), 120, "two running Ray jobs")
        h.kill9(proc)
        before = {j.id: j for j in h.jobs(root, "t") if j.status.value == "RUNNING"}
        assert ray_local.read_state(task_dir) is not None   # the head outlived the controller

        proc = h.start(root, "t", "--resume")
        # the adopted jobs finish (not rerun), the third one starts; then stop the search
        h.wait_for(lambda: sum(j.status.value == "SUCCEEDED" for j in h.jobs(root, "t")) >= 2, 120,
                   "the adopted jobs to finish")
        h.wait_for(h.running(root, "t", 1), 60, "the third job")
        assert h.ctl(root, "stop", "-t", "t").returncode == 0
        out = h.finish(proc, 120)
    finally:
        if proc.poll() is None:
            proc.kill()
        ray_local.stop(task_dir)
    after = {j.id: j for j in h.jobs(root, "t")}
    for job_id, job in before.items():
        assert after[job_id].external_id == job.external_id and after[job_id].attempt == job.attempt, out
        assert after[job_id].status.value == "SUCCEEDED"
    assert sorted(j.status.value for j in after.values()) == ["KILLED", "SUCCEEDED", "SUCCEEDED"], out
    assert ray_processes(task_dir) == []
