"""Several objectives in the controller loop: NSGA2Searcher is told each job's value of every objective (and its
constraint violations); the first objective is the job's reward; a job missing an objective counts as failed."""
from gml.launchers.base import JobState, Status


def test_nsga2_hears_every_objective_and_the_constraints(harness):
    h = harness(values=(0.1, 0.2, 0.3), parallel=3, searcher="NSGA2Searcher",
                searcher_keys={"reward_attribute": ["acc", "params"], "optimize_mode": ["maximize", "minimize"],
                               "constraints": ["params <= 500"]})
    c = h.controller
    c.recover()
    c.step()
    for job_id, acc, params in ((0, 0.5, 100), (1, 0.7, 900), (2, 0.9, None)):
        h.report(job_id, 0, acc=acc / 2, params=params if params is not None else 1)
        h.report(job_id, 1, acc=acc, **({"params": params} if params is not None else {}))
        h.launcher.states[f"{job_id}.1"] = Status(JobState.SUCCEEDED, 0)
    h.clock.advance(1)
    c.step()
    jobs = h.store.jobs()
    assert [j.reward for j in jobs] == [0.5, 0.7, 0.9]          # the first objective
    choices = h.config.space.dimension("lr").choices
    by_lr = {choices[t.params["lr"]]: t for t in h.parts.searcher.study.trials if t.state.name == "COMPLETE"}
    trials = [by_lr[job.point["lr"]] for job in jobs]
    assert trials[0].values == [0.5, 100.0] and trials[1].values == [0.7, 900.0]
    assert trials[1].constraints == {"0": 400.0} and trials[0].constraints == {"0": 0.0}
    # job 2 reported params only at step 0: its last value (1) counts, as for the reward
    assert trials[2].values == [0.9, 1.0]
    assert c.view().best_reward == 0.9 and [j.infeasible for j in jobs] == [False, True, False]
