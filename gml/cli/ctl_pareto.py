"""search-ctl show-scalar -t T --pareto: the jobs of a multi-objective task that no other job dominates."""
from __future__ import annotations

from ..errors import GmlConfigError
from ..search.controller.controller import OBSERVED
from ..search.objectives import objective_values, pareto_front
from ..search.task.lifecycle import load_task_config, open_store
from ..search.task.workspace import TaskPaths
from .common import table


def show_pareto(paths: TaskPaths) -> int:
    """Print the Pareto front over the task's objectives (from its run_config.yaml), best first by the first
    objective. Jobs count when their reward counts (SUCCEEDED, TIMEOUT, EARLY_STOPPED), they reported every
    objective and kept ``searcher.constraints``."""
    config = load_task_config(paths)
    objectives = config.searcher.objectives
    if len(objectives) < 2:
        raise GmlConfigError("--pareto", f"task {paths.name!r} has one objective ({objectives[0].name}); a Pareto "
                                         f"front needs a list in searcher.reward_attribute (use -rt +K for the best)")
    store = open_store(paths)
    try:
        entries = []
        jobs = {}
        for job in store.jobs(OBSERVED):
            if job.infeasible:
                continue
            curves = {}
            for name, step, value in store.scalars(job.id):
                curves.setdefault(name, []).append((step, value))
            values = objective_values(curves, objectives, config.searcher.reward_from)
            if values is not None:
                entries.append((job.id, values))
                jobs[job.id] = job
        front = pareto_front(entries, objectives)
        first = objectives[0]
        front.sort(key=lambda e: e[1][0], reverse=first.mode == "maximize")
        params = []
        for job_id, _ in front:
            params.extend(n for n in jobs[job_id].params if n not in params)
        rows = [[job_id] + list(values) + [jobs[job_id].params.get(n) for n in params] for job_id, values in front]
        headers = ["id"] + [f"{o.name} ({'max' if o.mode == 'maximize' else 'min'})" for o in objectives] + params
        print(f"Pareto front of {paths.name}: {len(front)} of {len(entries)} jobs with every objective")
        print(table(rows, headers) if rows else "no job has every objective yet")
    finally:
        store.close()
    return 0
