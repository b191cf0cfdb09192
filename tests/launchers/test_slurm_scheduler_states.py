"""SlurmLauncher in the scheduler situations a test cluster cannot produce on demand, on the fake Slurm of
fake_slurm.py (real jobs, scripted scheduler): preemption, node failure, out of memory, time limit, an scancel by
someone else, accounting down or disabled, slurmctld unreachable, and a requeue."""
import os
import time

import pytest

from gml.launchers import JobState, LaunchError
from gml.launchers.slurm import SlurmLauncher
from gml.testing.launchers import LauncherCase, wait_done, wait_for_file

CASE = LauncherCase(SlurmLauncher, {"squeue_interval": 0.1}, timeout=30)


def running_job(launcher, tmp_path, job_id, command="sleep 60"):
    """A submitted job that has started (it wrote ``started`` in its job directory)."""
    spec = CASE.spec(tmp_path, job_id, f"echo run-$SLURM_RESTART_COUNT > \"$GML_JOB_DIR/started\"; {command}")
    eid = launcher.submit(spec)
    wait_for_file(os.path.join(spec.job_dir, "started"), 30)
    return eid, spec


def polls(launcher, ids, n=5):
    """``n`` polls, each after the squeue interval: the states seen."""
    seen = []
    for _ in range(n):
        time.sleep(launcher.squeue_interval)
        seen.append(launcher.poll(ids))
    return seen


ENDED_BY_SLURM = [("PREEMPTED", "0:0", "preempted"), ("NODE_FAIL", "0:0", "node running the job failed"),
                  ("OUT_OF_MEMORY", "0:125", "out of memory"), ("TIMEOUT", "0:15", "time limit"),
                  ("CANCELLED", "0:15", "cancelled by scancel (not by gml)")]


@pytest.mark.parametrize("purged", [False, True], ids=["listed", "purged"])
def test_jobs_slurm_ended_are_failed_with_slurms_reason(tmp_path, fake_slurm, purged):
    """The job's processes die at once (no exit code file): squeue, or sacct once squeue forgot the job, says
    why."""
    launcher = CASE.build()
    jobs = {state: running_job(launcher, tmp_path, i)[0] for i, (state, _, _) in enumerate(ENDED_BY_SLURM)}
    for state, code, _ in ENDED_BY_SLURM:
        fake_slurm.end(jobs[state], state, code)
        if purged:
            fake_slurm.purge(jobs[state])
    states = wait_done(launcher, jobs.values(), 30)
    for state, _, reason in ENDED_BY_SLURM:
        status = states[jobs[state]]
        assert status.state == JobState.FAILED and reason in status.message, (state, status)


def test_accounting_down_keeps_jobs_open_until_it_answers(tmp_path, fake_slurm):
    launcher = CASE.build()
    forgotten, _ = running_job(launcher, tmp_path, 0)
    listed, _ = running_job(launcher, tmp_path, 1)
    finishing, _ = running_job(launcher, tmp_path, 2, "sleep 1")
    fake_slurm.set(accounting="down")
    fake_slurm.end(forgotten, "NODE_FAIL")
    fake_slurm.purge(forgotten)           # only sacct could tell how it ended
    fake_slurm.end(listed, "NODE_FAIL")   # squeue still says NODE_FAIL
    assert wait_done(launcher, [finishing], 30)[finishing].state == JobState.SUCCEEDED   # its exit code file
    for seen in polls(launcher, [forgotten, listed]):
        assert not seen[forgotten].state.is_done, seen   # no verdict without Slurm's word
        assert seen[listed].state == JobState.FAILED and "node" in seen[listed].message, seen
    fake_slurm.set(accounting="on")
    status = wait_done(launcher, [forgotten], 30)[forgotten]
    assert status.state == JobState.FAILED and "node running the job failed" in status.message, status


def test_accounting_disabled_judges_from_squeue_and_exit_files(tmp_path, fake_slurm):
    fake_slurm.set(accounting="disabled")
    launcher = CASE.build()
    forgotten, _ = running_job(launcher, tmp_path, 0)
    listed, _ = running_job(launcher, tmp_path, 1)
    fake_slurm.end(forgotten, "NODE_FAIL")
    fake_slurm.purge(forgotten)
    fake_slurm.end(listed, "TIMEOUT")
    states = wait_done(launcher, [forgotten, listed], 30)
    assert states[forgotten].state == JobState.LOST and "no longer knows" in states[forgotten].message
    assert states[listed].state == JobState.FAILED and "time limit" in states[listed].message


def test_slurmctld_unreachable_keeps_states_and_refuses_submissions_with_the_reason(tmp_path, fake_slurm):
    launcher = CASE.build()
    eid, _ = running_job(launcher, tmp_path, 0, "sleep 2; exit 4")
    fake_slurm.set(controller_down=True)
    with pytest.raises(LaunchError, match="Unable to contact slurm controller"):
        launcher.submit(CASE.spec(tmp_path, 1, "true"))
    for seen in polls(launcher, [eid]):
        assert not seen[eid].state.is_done or seen[eid].state == JobState.FAILED, seen   # never LOST
    status = wait_done(launcher, [eid], 30)[eid]      # its exit code file tells, even with Slurm silent
    assert (status.state, status.exit_code) == (JobState.FAILED, 4)
    fake_slurm.set(controller_down=False)


def test_a_cancel_while_slurmctld_is_unreachable_still_ends_the_job(tmp_path, fake_slurm):
    launcher = CASE.build()
    eid, _ = running_job(launcher, tmp_path, 0)
    fake_slurm.set(controller_down=True)
    launcher.cancel(eid)
    polls(launcher, [eid], n=2)
    fake_slurm.set(controller_down=False)
    assert wait_done(launcher, [eid], 30)[eid].state == JobState.CANCELLED
    deadline = time.monotonic() + 10
    while fake_slurm.job(eid)["state"] != "CANCELLED" and time.monotonic() < deadline:
        launcher.poll([eid])
        time.sleep(0.2)
    assert fake_slurm.job(eid)["state"] == "CANCELLED", "the job still runs in Slurm"


def test_a_requeued_job_is_followed_to_its_second_run(tmp_path, fake_slurm):
    launcher = CASE.build()
    eid, spec = running_job(launcher, tmp_path, 0, "echo in-run-$SLURM_RESTART_COUNT; "
                                                   "[ $SLURM_RESTART_COUNT = 1 ] || sleep 60")
    fake_slurm.requeue(eid)
    os.remove(os.path.join(spec.job_dir, "started"))
    for seen in polls(launcher, [eid]):
        assert seen[eid].state == JobState.QUEUED, seen
    assert "BeginTime" in seen[eid].message
    fake_slurm.release(eid)
    assert wait_for_file(os.path.join(spec.job_dir, "started"), 30) == "run-1\n"
    assert wait_done(launcher, [eid], 30)[eid].state == JobState.SUCCEEDED
    log = open(spec.log_path).read()
    assert "in-run-0" in log and "in-run-1" in log
