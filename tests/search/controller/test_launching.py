"""Launching: suggestions become jobs, recorded with their command before the launcher sees them."""
import os

from gml.launchers.base import JobState, Status
from gml.search.task.jobs import JobStatus


def test_jobs_are_recorded_pending_with_their_command_before_submit_and_running_after(harness):
    h = harness(values=(0.1, 0.2, 0.3), parallel=2)
    h.launching.launch(running=0, draining=False, stop_after_submit=lambda: False)
    submits = [c for c in h.launcher.calls if c[0] == "submit"]
    # what a second connection saw while the launcher was called: PENDING, stamped, rendered
    assert submits == [("submit", 0, "PENDING", h.clock.time(), "python train.py --lr 0.1"),
                       ("submit", 1, "PENDING", h.clock.time(), "python train.py --lr 0.2")]
    jobs = h.store.jobs()
    assert [(j.id, j.status, j.external_id, j.attempt) for j in jobs] == \
        [(0, JobStatus.RUNNING, "0.1", 1), (1, JobStatus.RUNNING, "1.1", 1)]
    assert all(j.start_time is None for j in jobs), "a submitted job has not started until the launcher says so"
    assert os.path.isdir(h.paths.job_dir(0)) and jobs[0].log_path == os.path.join(h.paths.job_dir(0), "log")
    assert os.path.islink(os.path.join(h.paths.jobs_tree, "lr", "0.1"))
    # one free slot left by one running job: the third configuration
    h.launching.launch(running=1, draining=False, stop_after_submit=lambda: False)
    assert h.launcher.submitted() == [0, 1, 2]
    h.launching.launch(running=0, draining=False, stop_after_submit=lambda: False)
    assert h.launching.exhausted and h.launcher.submitted() == [0, 1, 2]


def test_a_refused_submission_is_an_error_and_the_next_slot_goes_on(harness):
    h = harness(values=(0.1, 0.2), parallel=2)
    h.launcher.refuse.add(0)
    h.launching.launch(running=0, draining=False, stop_after_submit=lambda: False)
    first, second = h.store.jobs()
    assert first.status == JobStatus.ERROR and first.error == "the queue refused it" and first.end_time is not None
    assert second.status == JobStatus.RUNNING


def test_filtered_configurations_are_recorded_and_never_submitted(harness):
    h = harness(values=(0.1, 0.2, 0.3), parallel=3,
                scheduler={"filter_criterion": [{"type": "DropParams", "drop": [{"lr": 0.2}]}]})
    h.launching.launch(running=0, draining=False, stop_after_submit=lambda: False)
    assert [j.status for j in h.store.jobs()] == [JobStatus.RUNNING, JobStatus.FILTERED, JobStatus.RUNNING]
    assert h.launcher.submitted() == [0, 2]


def test_draining_launches_reruns_only_and_a_stop_after_submit_ends_the_round(harness):
    h = harness(values=(0.1, 0.2, 0.3), parallel=3)
    h.launching.launch(running=0, draining=False, stop_after_submit=lambda: True)
    assert h.launcher.submitted() == [0]
    h.launching.launch(running=1, draining=True, stop_after_submit=lambda: False)
    assert h.launcher.submitted() == [0]


def test_a_rerun_is_a_new_attempt_with_the_old_log_kept_aside(harness):
    h = harness(values=(0.1,), parallel=1)
    h.launching.launch(running=0, draining=False, stop_after_submit=lambda: False)
    job = h.store.job(0)
    with open(job.log_path, "w") as f:
        f.write("attempt 1\n")
    mlflow_db = os.path.join(h.paths.job_dir(0), "mlflow.db")     # the job's own MLflow store (metrics_from.mlflow)
    with open(mlflow_db, "w") as f:
        f.write("runs of attempt 1")
    h.report(0, 0, acc=0.5)
    h.watching.ingest(job)
    h.watching.finish(job, Status(JobState.FAILED, 1, "exited with code 1"))
    assert h.store.job(0).status == JobStatus.ERROR
    h.clock.advance(60)
    h.launching.reruns.append(0)
    h.launching.launch(running=0, draining=False, stop_after_submit=lambda: False)
    rerun = h.store.job(0)
    assert (rerun.status, rerun.attempt, rerun.external_id, rerun.error, rerun.reward) == \
        (JobStatus.RUNNING, 2, "0.2", None, None)
    assert rerun.submitted_at == h.clock.time() and rerun.scalar_offset == 0 and h.store.scalars(0) == []
    assert open(job.log_path + ".attempt1").read() == "attempt 1\n" and not os.path.exists(job.log_path)
    assert open(mlflow_db + ".attempt1").read() == "runs of attempt 1" and not os.path.exists(mlflow_db)


def test_a_job_recorded_before_its_filters_ran_is_filtered_on_resume(harness):
    """A controller killed inside `start` (the job recorded PENDING, the filters not run yet) leaves a job that
    was never submitted: the next controller filters it before running it, and runs the ones that pass."""
    h = harness(values=(0.1, 0.2, 0.3), parallel=3,
                scheduler={"filter_criterion": [{"type": "DropParams", "drop": [{"lr": 0.2}]}]})
    for lr in (0.1, 0.2):
        h.store.add_job({"lr": lr}, {"lr": lr})
    h.controller.recover()
    assert list(h.launching.reruns) == [0, 1]
    h.launching.launch(running=0, draining=False, stop_after_submit=lambda: False)
    assert [j.status for j in h.store.jobs()] == [JobStatus.RUNNING, JobStatus.FILTERED, JobStatus.RUNNING]
    assert h.launcher.submitted() == [0, 2]
