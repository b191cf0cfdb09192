"""searcher.constraints in the controller loop: each finished job's violation is recorded from the last value of
its constrained scalars, an infeasible job never becomes the best (nor stops the search through max_reward),
searchers without constraint support hear it as failed, and TPE hears the violations (also on resume)."""
from gml.launchers.base import JobState, Status
from gml.search.task.summary_files import best_job, task_summary


def finish(h, job_id, acc, flops):
    h.report(job_id, 0, acc=acc, flops=flops * 2)
    h.report(job_id, 1, acc=acc, flops=flops)          # the last value counts
    h.launcher.states[f"{job_id}.1"] = Status(JobState.SUCCEEDED, 0)
    h.clock.advance(1)


def test_an_infeasible_job_is_never_the_best_and_the_searcher_hears_it_as_failed(harness):
    h = harness(values=(0.1, 0.2, 0.3), parallel=3,
                searcher_keys={"constraints": ["flops <= 600"]},
                scheduler={"stop_criterion": {"max_reward": 0.9}})
    told = []
    observe = h.parts.searcher.observe
    h.parts.searcher.observe = lambda point, reward: (told.append((point["lr"], reward)), observe(point, reward))
    c = h.controller
    c.recover()
    c.step()
    finish(h, 0, 0.5, 500)
    finish(h, 1, 0.95, 700)        # over max_reward, but infeasible: the search goes on
    finish(h, 2, 0.6, 600)
    c.step()
    jobs = h.store.jobs()
    assert [j.violation for j in jobs] == [0.0, 100.0, 0.0] and [j.infeasible for j in jobs] == [False, True, False]
    assert c.view().best_reward == 0.6 and best_job(jobs, "maximize").id == 2
    assert task_summary(h.store)["best"]["id"] == 2
    assert sorted(told) == [(0.1, 0.5), (0.2, None), (0.3, 0.6)]
    assert c.step()[1] == "the searcher has no configuration left"     # not "max_reward=0.9 reached"


def test_a_job_that_never_reports_a_constrained_scalar_is_infeasible(harness):
    h = harness(values=(0.1,), parallel=1, searcher_keys={"constraints": ["latency_ms < 20"]})
    h.controller.recover()
    h.controller.step()
    h.report(0, 0, acc=0.9)
    h.launcher.states["0.1"] = Status(JobState.SUCCEEDED, 0)
    h.clock.advance(1)
    h.controller.step()
    job = h.store.job(0)
    assert job.infeasible and job.violation == float("inf") and job.reward == 0.9
    assert task_summary(h.store)["best"] is None


def test_tpe_hears_the_violations_live_and_on_resume(harness):
    h = harness(values=(0.1, 0.2, 0.3, 0.4), parallel=2, searcher="TPESearcher",
                searcher_keys={"constraints": ["flops <= 600", "acc >= 0.2"]})
    c = h.controller
    c.recover()
    c.step()
    finish(h, 0, 0.5, 650)
    finish(h, 1, 0.1, 600)
    c.step()
    trials = [t for t in h.parts.searcher.study.trials if t.state.name == "COMPLETE"]
    assert sorted(tuple(t.constraints.values()) for t in trials) == [(0.0, 0.1), (50.0, 0.0)]
    # a fresh controller on the same store replays the violations into a fresh TPE
    resumed = harness(values=(0.1, 0.2, 0.3, 0.4), parallel=2, searcher="TPESearcher",
                      searcher_keys={"constraints": ["flops <= 600", "acc >= 0.2"]})
    for job in h.store.jobs():
        if job.status.is_terminal:
            added = resumed.store.add_job(job.point, job.params)
            resumed.store.update_job(added.id, status="RUNNING")
            resumed.store.update_job(added.id, status=job.status, reward=job.reward)
            for name, step, value in h.store.scalars(job.id):
                resumed.store.add_scalars(added.id, [(name, step, value, 0.0)])
    resumed.controller.recover()
    trials = [t for t in resumed.parts.searcher.study.trials if t.state.name == "COMPLETE"]
    assert sorted(tuple(t.constraints.values()) for t in trials) == [(0.0, 0.1), (50.0, 0.0)]
    assert [j.violation for j in resumed.store.jobs()] == [50.0, 0.1]
