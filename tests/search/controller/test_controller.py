"""The controller loop on a scripted launcher: a whole search step by step, stop requests, and recovery of a
store left by a controller that died at awkward instants."""
from gml.launchers.base import JobState, Status
from gml.search.task.jobs import JobStatus, TaskStatus
from gml.search.task.store import RequestAction


def test_a_search_runs_step_by_step_to_its_end(harness):
    h = harness(values=(0.1, 0.2, 0.3), parallel=2)
    c = h.controller
    c.recover()
    assert c.step() is None and h.launcher.submitted() == [0, 1]
    h.report(0, 0, acc=0.1)
    h.launcher.states["0.1"] = Status(JobState.SUCCEEDED, 0)
    h.clock.advance(1)
    assert c.step() is None and h.launcher.submitted() == [0, 1, 2]
    for eid, value in (("1.1", 0.2), ("2.1", 0.3)):
        h.report(int(eid[0]), 0, acc=value)
        h.launcher.states[eid] = Status(JobState.SUCCEEDED, 0)
    h.clock.advance(1)
    assert c.step() == (TaskStatus.FINISHED, "the searcher has no configuration left")
    assert [(j.status, j.reward) for j in h.store.jobs()] == [(JobStatus.SUCCEEDED, 0.1), (JobStatus.SUCCEEDED, 0.2),
                                                               (JobStatus.SUCCEEDED, 0.3)]
    view = c.view()
    assert (view.best_reward, view.launched, view.finished, view.elapsed) == (0.3, 3, 3, 2)


def test_a_stop_request_records_each_kill_before_cancelling(harness):
    h = harness(values=(0.1, 0.2), parallel=2)
    h.controller.recover()
    h.controller.step()
    h.store.add_request(RequestAction.STOP)
    assert h.controller.step() == (TaskStatus.STOPPED, "stopped by search-ctl stop")
    cancels = [c for c in h.launcher.calls if c[0] == "cancel"]
    assert cancels == [("cancel", 0, "RUNNING", "KILLED", "stopped by search-ctl stop"),
                       ("cancel", 1, "RUNNING", "KILLED", "stopped by search-ctl stop")]
    assert [j.status for j in h.store.jobs()] == [JobStatus.KILLED, JobStatus.KILLED]


def test_recover_finishes_what_a_dead_controller_left(harness):
    """Job 0 ran to the end unwatched; job 1 was being ended (intent recorded, cancel never sent); job 2 was
    recorded PENDING and submitted, its id never written (the launcher finds it from its traces); job 3 was
    recorded PENDING and never submitted; job 4 failed earlier and is run again."""
    h = harness(values=(0.1, 0.2, 0.3, 0.4, 0.5), parallel=5)
    s = h.store
    for job_id in range(5):
        s.add_job({"lr": [0.1, 0.2, 0.3, 0.4, 0.5][job_id]}, {})
    s.update_job(0, status=JobStatus.RUNNING, external_id="0.1", command="c", submitted_at=1.0)
    h.report(0, 0, acc=0.7)
    h.launcher.states["0.1"] = Status(JobState.SUCCEEDED, 0)
    s.update_job(1, status=JobStatus.RUNNING, external_id="1.1", start_time=2.0)
    s.record_end_intent(1, JobStatus.TIMEOUT, "over time_limits_per_job (10s)")
    h.launcher.alive.add("1.1")
    h.launcher.traces[2] = "2.1"
    h.launcher.alive.add("2.1")
    s.update_job(4, status=JobStatus.RUNNING, external_id="4.1")
    s.update_job(4, status=JobStatus.ERROR, error="exited with code 1")
    h.controller.recover()
    jobs = s.jobs()
    assert (jobs[0].status, jobs[0].reward) == (JobStatus.SUCCEEDED, 0.7)
    assert ("cancel", 1, "RUNNING", "TIMEOUT", "over time_limits_per_job (10s)") in h.launcher.calls
    assert jobs[1].status == JobStatus.TIMEOUT and jobs[1].error == "over time_limits_per_job (10s)"
    assert (jobs[2].status, jobs[2].external_id) == (JobStatus.RUNNING, "2.1")
    assert list(h.launching.reruns) == [3, 4] and h.launcher.submitted() == []
    h.controller.step()
    assert h.launcher.submitted() == [3, 4]
    assert [s.job(i).attempt for i in (3, 4)] == [1, 1]


def test_recover_records_a_job_that_ran_to_its_end_while_no_controller_knew_its_id(harness):
    """Killed between submit and recording the id; the job finished before the next controller looked: its
    exit code file tells the end, and it is not run a second time."""
    import os
    from gml.launchers.wrapper import EXIT_FILE
    h = harness(values=(0.1, 0.2), parallel=2)
    h.launching.launch(running=0, draining=False, stop_after_submit=lambda: False)
    for job_id, code in ((0, 0), (1, 3)):
        h.store.update_job(job_id, status=JobStatus.PENDING, external_id=None)   # as if the id was never written
        h.report(job_id, 0, acc=0.5)
        with open(os.path.join(h.paths.job_dir(job_id), EXIT_FILE), "w") as f:
            f.write(f"{code}\n")
    h.launcher.calls.clear()
    h.controller.recover()
    jobs = h.store.jobs()
    assert (jobs[0].status, jobs[0].reward, jobs[0].exit_code) == (JobStatus.SUCCEEDED, 0.5, 0)
    assert (jobs[1].status, jobs[1].exit_code) == (JobStatus.ERROR, 3) and "exited with code 3" in jobs[1].error
    # the ERROR one is run again, as every ERROR job on resume; the SUCCEEDED one is not
    assert list(h.launching.reruns) == [1]
    h.controller.step()
    assert h.launcher.submitted() == [1] and h.store.job(1).attempt == 2
    assert not os.path.exists(os.path.join(h.paths.job_dir(1), EXIT_FILE)), "cleared before the new attempt"
