"""The human-readable files of a task, written from the store: task.yaml and the jobs/tree links."""
from __future__ import annotations

import os
import re
import time
from typing import Any, Dict, List, Optional

from .jobs import Job, JobStatus
from .store import Store
from ..config.template import format_value
from .workspace import TaskPaths, write_yaml

_UNSAFE = re.compile(r"[^A-Za-z0-9_.,=+-]")


def _path_part(value: Any) -> str:
    """A value as one safe path component ('/' and other odd characters are percent-encoded)."""
    text = _UNSAFE.sub(lambda m: "%{:02X}".format(ord(m.group(0))), format_value(value))
    return text[:100] or "%00"


def link_job_tree(paths: TaskPaths, job: Job) -> None:
    """``jobs/tree/<arg1>/<value1>/<arg2>/<value2>/... -> ../../all/<i>``, args in search order."""
    parts: List[str] = []
    for name, value in job.params.items():
        parts += [_path_part(name), _path_part(value)]
    if not parts:
        return
    link = os.path.join(paths.jobs_tree, *parts)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    target = os.path.relpath(paths.job_dir(job.id), os.path.dirname(link))
    if not os.path.lexists(link):
        os.symlink(target, link)


def _fmt_time(t: Optional[float]) -> Optional[str]:
    return None if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def job_summary(job: Job, scalars: Optional[Dict[str, Dict[int, Optional[float]]]] = None) -> Dict[str, Any]:
    """One job as shown by `search-ctl show` and written in task.yaml."""
    out: Dict[str, Any] = {
        "id": job.id, "status": job.status.value, "params": job.params, "reward": job.reward,
        "command": job.command, "run_path": job.run_path, "log_path": job.log_path,
        "start_time": _fmt_time(job.start_time), "end_time": _fmt_time(job.end_time),
    }
    if job.attempt > 1:
        out["attempt"] = job.attempt
    if job.exit_code is not None:
        out["exit_code"] = job.exit_code
    if job.stopped_step is not None:
        out["stopped_step"] = job.stopped_step
    if job.violation is not None:
        out["violation"] = job.violation      # of searcher.constraints: 0 feasible, > 0 infeasible
    if job.error:
        out["error"] = job.error
    if scalars is not None:
        out["scalars"] = scalars
    return out


def best_job(jobs: List[Job], optimize_mode: str) -> Optional[Job]:
    """The job with the best reward among those that kept ``searcher.constraints`` (None when none has one)."""
    scored = [j for j in jobs if j.reward is not None and j.status != JobStatus.FILTERED and not j.infeasible]
    if not scored:
        return None
    return (max if optimize_mode == "maximize" else min)(scored, key=lambda j: j.reward)


WARNINGS_META = "warnings"    # store meta: texts a search wants its user to see (search-ctl show, task.yaml)


def task_summary(store: Store) -> Dict[str, Any]:
    jobs = store.jobs()
    mode = store.get_meta("optimize_mode", "maximize")
    best = best_job(jobs, mode)
    counts: Dict[str, int] = {}
    for j in jobs:
        counts[j.status.value] = counts.get(j.status.value, 0) + 1
    return {
        "task": store.get_meta("task"), "status": store.get_meta("status"),
        "config": store.get_meta("config_path"), "created": _fmt_time(store.get_meta("created_at")),
        "updated": _fmt_time(store.get_meta("updated_at")), "reason": store.get_meta("reason"),
        "reward_attribute": store.get_meta("reward_attribute"), "optimize_mode": mode,
        "jobs": counts, "best": None if best is None else {"id": best.id, "reward": best.reward,
                                                           "params": best.params},
        "warnings": list(store.get_meta(WARNINGS_META, []) or []),
    }


def write_task_yaml(paths: TaskPaths, store: Store) -> Dict[str, Any]:
    summary = task_summary(store)
    write_yaml(paths.task_yaml, summary)
    return summary
