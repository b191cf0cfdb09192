"""Watching: what each launcher answer becomes, time limits on the test's clock, assessor stops, cancel intents."""
import pytest

from gml.launchers.base import JobState, Status
from gml.search.assessors import Assessor, Decision
from gml.search.task.jobs import IllegalTransition, JobStatus


def started(h, n):
    h.launching.launch(running=0, draining=False, stop_after_submit=lambda: False)
    assert h.launcher.submitted() == list(range(n))


def test_each_poll_answer_is_recorded(harness):
    h = harness(values=(0.1, 0.2, 0.3, 0.4, 0.5), parallel=5)
    started(h, 5)
    h.report(1, 0, acc=0.3)
    h.report(1, 1, acc=0.6)
    with open(h.store.job(2).log_path, "w") as f:
        f.write("Traceback ...\nValueError: bad lr\n")
    h.clock.advance(5)
    h.launcher.states.update({"0.1": Status(JobState.RUNNING), "1.1": Status(JobState.SUCCEEDED, 0),
                              "2.1": Status(JobState.FAILED, 3, "exited with code 3"),
                              "3.1": Status(JobState.QUEUED), "4.1": Status(JobState.LOST, message="gone")})
    ended, running = h.watching.watch()
    assert running == 2 and [j.id for j in ended] == [1, 2, 4]
    jobs = {j.id: j for j in h.store.jobs()}
    assert jobs[0].status == JobStatus.RUNNING and jobs[0].start_time == h.clock.time()
    assert jobs[3].status == JobStatus.RUNNING and jobs[3].start_time is None      # still queued
    assert (jobs[1].status, jobs[1].reward, jobs[1].exit_code, jobs[1].error) == (JobStatus.SUCCEEDED, 0.6, 0, None)
    assert jobs[1].start_time == jobs[1].submitted_at, "it ran between two polls: it started after its submission"
    assert jobs[2].status == JobStatus.ERROR and jobs[2].exit_code == 3
    assert jobs[2].error.startswith("exited with code 3\n--- last lines of") and "ValueError: bad lr" in jobs[2].error
    assert jobs[4].status == JobStatus.ERROR and jobs[4].error == "gone"


def test_polls_are_paced_by_the_launcher_interval_unless_it_says_something_changed(harness):
    h = harness(values=(0.1,), parallel=1)
    started(h, 1)
    h.watching.watch()
    h.watching.watch()
    assert sum(c[0] == "poll" for c in h.launcher.calls) == 1
    h.watching.watch(changed=True)
    h.clock.advance(h.launcher.poll_interval)
    h.watching.watch()
    assert sum(c[0] == "poll" for c in h.launcher.calls) == 3


def test_the_time_limit_counts_from_running_and_the_intent_is_recorded_before_cancel(harness):
    h = harness(values=(0.1, 0.2), parallel=2, scheduler={"stop_criterion": {"time_limits_per_job": "10s"}})
    started(h, 2)
    h.launcher.states["0.1"] = Status(JobState.RUNNING)      # job 1 waits in the queue
    h.watching.watch()
    h.clock.advance(10)
    h.report(0, 4, acc=0.25)
    assert h.watching.watch(changed=True) == ([], 2)       # exactly at the limit: not over it
    h.clock.advance(0.5)
    ended, running = h.watching.watch(changed=True)
    assert [j.id for j in ended] == [0] and running == 1
    assert ("cancel", 0, "RUNNING", "TIMEOUT", "over time_limits_per_job (10s)") in h.launcher.calls
    job = h.store.job(0)
    assert (job.status, job.reward, job.error) == (JobStatus.TIMEOUT, 0.25, "over time_limits_per_job (10s)")
    h.clock.advance(3600)
    h.watching.watch(changed=True)
    assert h.store.job(1).status == JobStatus.RUNNING, "a queued job's clock has not started"


class StopAtStep2(Assessor):
    def __init__(self):
        super().__init__("maximize")
        self.asked = []

    def assess_job(self, job_id, history):
        self.asked.append((job_id, list(history)))
        return Decision.STOP if history[-1][0] >= 2 and history[-1][1] < 0.5 else Decision.CONTINUE


def test_an_assessor_judges_every_new_step_and_stops_at_the_first_stop(harness):
    assessor = StopAtStep2()
    h = harness(values=(0.1, 0.9), parallel=2, assessor=assessor)
    started(h, 2)
    for job_id, value in ((0, 0.1), (1, 0.9)):
        for step in range(3):
            h.report(job_id, step, acc=value)
    ended, running = h.watching.watch()
    assert [j.id for j in ended] == [0] and running == 1
    # three steps arrived in one read: each is judged, with the curve up to it
    assert assessor.asked == [(0, [(0, 0.1)]), (0, [(0, 0.1), (1, 0.1)]), (0, [(0, 0.1), (1, 0.1), (2, 0.1)]),
                              (1, [(0, 0.9)]), (1, [(0, 0.9), (1, 0.9)]), (1, [(0, 0.9), (1, 0.9), (2, 0.9)])]
    cancels = [c for c in h.launcher.calls if c[0] == "cancel"]
    assert cancels == [("cancel", 0, "RUNNING", "EARLY_STOPPED", "stopped by the assessor at step 2")]
    job = h.store.job(0)
    assert (job.status, job.stopped_step, job.reward) == (JobStatus.EARLY_STOPPED, 2, 0.1)
    h.watching.watch(changed=True)
    assert len(assessor.asked) == 6, "the assessor is asked only when new values arrive"
    h.report(1, 3, acc=0.9)
    h.watching.watch(changed=True)
    assert assessor.asked[6:] == [(1, [(0, 0.9), (1, 0.9), (2, 0.9), (3, 0.9)])], "judged steps are not re-asked"


def test_ending_records_the_intent_and_the_store_refuses_illegal_transitions(harness):
    h = harness(values=(0.1,), parallel=1)
    started(h, 1)
    h.launcher.states["0.1"] = Status(JobState.SUCCEEDED, 0)
    h.watching.watch()
    assert h.store.job(0).status == JobStatus.SUCCEEDED
    with pytest.raises(IllegalTransition, match="SUCCEEDED -> KILLED"):
        h.watching.end(h.store.job(0), JobStatus.KILLED, "too late")
    assert not [c for c in h.launcher.calls if c[0] == "cancel"]
    with pytest.raises(IllegalTransition, match="SUCCEEDED -> RUNNING"):
        h.store.update_job(0, status=JobStatus.RUNNING)
    assert h.store.job(0).status == JobStatus.SUCCEEDED
