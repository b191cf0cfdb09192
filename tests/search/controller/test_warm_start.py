"""Warm starts in the controller loop: initial points run before the searcher's own, enqueue requests are picked
up while the task runs (even once the searcher is exhausted or a stop criterion ended new launches), and a
request's job is recorded before the request is closed, so a controller killed in between loses nothing."""
from gml.launchers.base import JobState, Status
from gml.search.task.jobs import TaskStatus
from gml.search.task.store import RequestAction


def finish(h, job_id, acc):
    h.report(job_id, 0, acc=acc)
    h.launcher.states[f"{job_id}.1"] = Status(JobState.SUCCEEDED, 0)
    h.clock.advance(1)


def lrs(h):
    return [j.point["lr"] for j in h.store.jobs()]


def test_initial_points_run_first_and_the_searcher_never_repeats_them(harness):
    h = harness(values=(0.1, 0.2, 0.3, 0.4), parallel=1, searcher_keys={"initial_points": [{"lr": 0.4}, {"lr": 0.2}]})
    c = h.controller
    c.recover()
    for job_id in range(4):
        assert c.step() is None
        finish(h, job_id, 0.5)
    assert c.step() == (TaskStatus.FINISHED, "the searcher has no configuration left")
    assert lrs(h) == [0.4, 0.2, 0.1, 0.3]


def test_a_resumed_task_skips_initial_points_that_already_ran(harness):
    h = harness(values=(0.1, 0.2, 0.3), parallel=2, searcher_keys={"initial_points": [{"lr": 0.3}, {"lr": 0.2}]})
    h.store.add_job({"lr": 0.3}, {"lr": 0.3})
    h.controller.recover()         # job 0 was recorded and never submitted: it is a rerun
    assert [q.point for q in h.launching.queued] == [{"lr": 0.2}]
    h.controller.step()
    assert h.launcher.submitted() == [0, 1] and lrs(h) == [0.3, 0.2]


def test_an_enqueued_point_runs_next_and_its_request_closes_once_its_job_is_recorded(harness):
    h = harness(values=(0.1, 0.2, 0.3), parallel=1)
    c = h.controller
    c.recover()
    c.step()
    request = h.store.add_request(RequestAction.ENQUEUE, {"lr": 0.3})
    c.step()                       # picked up, waits for a free slot; the request stays open until then
    assert [r.id for r in h.store.open_requests()] == [request] and lrs(h) == [0.1]
    finish(h, 0, 0.5)
    c.step()
    assert lrs(h) == [0.1, 0.3] and h.store.open_requests() == []
    finish(h, 1, 0.6)
    c.step()
    finish(h, 2, 0.7)
    assert c.step() == (TaskStatus.FINISHED, "the searcher has no configuration left")
    assert lrs(h) == [0.1, 0.3, 0.2]


def test_an_enqueued_point_runs_after_max_tries_drained_the_search_and_a_repeat_is_dropped(harness):
    h = harness(values=(0.1, 0.2, 0.3), parallel=1, scheduler={"stop_criterion": {"max_tries": 1}})
    c = h.controller
    c.recover()
    c.step()
    h.store.add_request(RequestAction.ENQUEUE, {"lr": 0.1})     # already job 0: dropped, request closed
    h.store.add_request(RequestAction.ENQUEUE, {"lr": 0.3})
    finish(h, 0, 0.5)
    assert c.step() is None and lrs(h) == [0.1, 0.3] and h.store.open_requests() == []
    finish(h, 1, 0.9)
    assert c.step() == (TaskStatus.FINISHED, "max_tries=1 reached")
    assert lrs(h) == [0.1, 0.3]


def test_an_open_request_left_by_a_dead_controller_runs_on_resume(harness):
    h = harness(values=(0.1, 0.2), parallel=2, searcher_keys={"initial_points": [{"lr": 0.2}]})
    h.store.add_request(RequestAction.ENQUEUE, {"lr": 0.1})
    h.controller.recover()
    h.controller.step()
    assert lrs(h) == [0.2, 0.1] and h.store.open_requests() == []


def test_a_stop_request_leaves_later_enqueue_requests_for_the_next_resume(harness):
    h = harness(values=(0.1, 0.2, 0.3), parallel=1)
    h.controller.recover()
    h.controller.step()
    h.store.add_request(RequestAction.STOP)
    waiting = h.store.add_request(RequestAction.ENQUEUE, {"lr": 0.3})
    assert h.controller.step() == (TaskStatus.STOPPED, "stopped by search-ctl stop")
    assert [r.id for r in h.store.open_requests()] == [waiting] and lrs(h) == [0.1]
