"""What the dashboard and the report show, read from ``.search-run/`` without writing anything.

Stores are opened read-only (``mode=ro``) with a short lock timeout, so a locked store is reported within
:data:`LOCK_TIMEOUT_S` seconds as ``sqlite3.OperationalError`` instead of hanging a page. Every function here opens
and closes its own store, so it may be called from any thread.
"""
from __future__ import annotations

import math
import os
import re
import sqlite3
import time
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ..search.task.jobs import Job, JobStatus
from ..search.task.lifecycle import TaskStateError, effective_status
from ..search.task.lock import TaskLock
from ..search.task.store import Store
from ..search.task.summary_files import best_job
from ..search.task.workspace import TaskPaths, list_task_names
from .importance import parameter_importance
from .job_facts import job_facts
from .labels import display_value

LOCK_TIMEOUT_S = 2.0
# scalar names taken as a model's cost for the accuracy-vs-cost plot (the first one a task reports wins)
COST_SCALAR = re.compile(r"(^|[_./-])(m?flops|g?macs|params|n_params|num_params|latency)($|[_./-])", re.I)


class UnknownTaskError(TaskStateError):
    """The task has no store under the workspace (a 404 for the dashboard)."""


@contextmanager
def read_store(paths: TaskPaths) -> Iterator[Store]:
    if not paths.exists():
        raise UnknownTaskError(f"no task {paths.name!r} in {os.path.dirname(paths.dir)}")
    store = Store(paths.db, readonly=True, timeout=LOCK_TIMEOUT_S)
    try:
        yield store
    finally:
        store.close()


def task_stamp(paths: TaskPaths) -> Tuple:
    """Changes whenever the controller commits (the store file or its write-ahead log changes); cheap to poll."""
    stamp = []
    for path in (paths.db, paths.db + "-wal"):
        try:
            st = os.stat(path)
            stamp += [st.st_mtime_ns, st.st_size]
        except FileNotFoundError:
            stamp += [0, 0]
    return tuple(stamp)


def _finite(value: Optional[float]) -> bool:
    """JSON has no NaN or infinity: such values are left out of what the pages draw."""
    return value is not None and math.isfinite(value)


def _best_entry(best: Optional[Job]) -> Optional[Dict[str, Any]]:
    return None if best is None else {"id": best.id, "reward": best.reward if _finite(best.reward) else None}


def _progress(jobs: List[Job]) -> Tuple[int, int]:
    counted = [j for j in jobs if j.status != JobStatus.FILTERED]
    return sum(1 for j in counted if j.status.is_terminal), len(counted)


def task_entry(root: str, name: str) -> Dict[str, Any]:
    """A task's line on the home page; a store that cannot be read gives ``error`` instead."""
    paths = TaskPaths(root, name)
    try:
        with read_store(paths) as store:
            jobs = store.jobs()
            mode = store.get_meta("optimize_mode", "maximize")
            done, total = _progress(jobs)
            return {
                "task": name, "status": effective_status(store, TaskLock(paths.lock)),
                "done": done, "total": total, "reward_name": store.get_meta("reward_attribute"),
                "mode": mode, "best": _best_entry(best_job(jobs, mode)),
                "created": store.get_meta("created_at"), "updated": store.get_meta("updated_at"),
            }
    except sqlite3.Error as err:
        return {"task": name, "error": f"cannot read the store {paths.db}: {err}"}


def with_live_status(root: str, value: Dict[str, Any]) -> Dict[str, Any]:
    """A cached task entry or task data said RUNNING: its controller may have died since without the store changing
    (kill -9), which :func:`effective_status` shows as INTERRUPTED; apply that rule again."""
    if value.get("status") == "RUNNING" and not TaskLock(TaskPaths(root, value["task"]).lock).is_held():
        return dict(value, status="INTERRUPTED")
    return value


def list_tasks(root: str) -> List[Dict[str, Any]]:
    """One :func:`task_entry` per task of the workspace."""
    return [task_entry(root, name) for name in list_task_names(root)]


def _param_columns(jobs: List[Job]) -> List[Dict[str, Any]]:
    names: List[str] = []
    for job in jobs:
        names.extend(n for n in job.params if n not in names)
    columns = []
    for name in names:
        values = [display_value(j.params[name]) for j in jobs if name in j.params]
        numeric = all(isinstance(v, (int, float)) for v in values)
        distinct = sorted(set(values), key=lambda v: (str(type(v)), v))
        columns.append({"name": name, "kind": "number" if numeric else "category",
                        "values": distinct if not numeric else None})
    return columns


def pareto_front(points: List[Tuple[int, float, float]], maximize: bool) -> List[int]:
    """Ids of the ``(id, cost, reward)`` points no other point beats on both (lower cost, better reward)."""
    sign = 1.0 if maximize else -1.0
    front, best = [], None
    for job_id, cost, reward in sorted(points, key=lambda p: (p[1], -sign * p[2])):
        if best is None or sign * reward > best:
            front.append(job_id)
            best = sign * reward
    return front


def task_data(root: str, name: str) -> Dict[str, Any]:
    """Everything the task page and the report draw, as one JSON-ready dict (see docs/dashboard.md)."""
    paths = TaskPaths(root, name)
    now = time.time()
    with read_store(paths) as store:
        jobs = store.jobs()
        meta = {key: store.get_meta(key) for key in ("status", "reason", "reward_attribute", "optimize_mode",
                                                      "created_at", "updated_at", "config_path")}
        status = effective_status(store, TaskLock(paths.lock))
        scalars = {job.id: store.scalars(job.id) for job in jobs}
    reward_name = meta["reward_attribute"] or "reward"
    mode = meta["optimize_mode"] or "maximize"
    best = best_job(jobs, mode)
    done, total = _progress(jobs)
    curves: Dict[str, List[List[float]]] = {}
    cost_name = next((n for rows in scalars.values() for n, _, _ in rows
                      if n != reward_name and COST_SCALAR.search(n)), None)
    cost_points = []
    rows = []
    for job in jobs:
        curve = [[step, value] for n, step, value in scalars[job.id] if n == reward_name and _finite(value)]
        if curve:
            curves[str(job.id)] = curve
        if cost_name is not None and job.reward is not None:
            costs = [value for n, _, value in scalars[job.id] if n == cost_name and _finite(value)]
            if costs and _finite(job.reward):
                cost_points.append((job.id, costs[-1], job.reward))
        facts = job_facts(job, now)
        rows.append({"id": job.id, "status": job.status.value, "attempt": job.attempt,
                     "params": {k: display_value(v) for k, v in job.params.items()},
                     "reward": job.reward if _finite(job.reward) else None,
                     "start": job.start_time, "end": job.end_time, "duration": facts.duration,
                     "stop_reason": facts.stop_reason, "stopped_step": job.stopped_step})
    params = _param_columns(jobs)
    cost = None
    if cost_points:
        cost = {"name": cost_name, "points": [list(p) for p in cost_points],
                "front": pareto_front(cost_points, mode == "maximize")}
    return {
        "task": name, "status": status, "reason": meta["reason"], "reward_name": reward_name, "mode": mode,
        "created": meta["created_at"], "updated": meta["updated_at"], "config": meta["config_path"],
        "done": done, "total": total,
        "best": _best_entry(best),
        "params": params, "jobs": rows, "curves": curves, "cost": cost, "generated_at": now,
    }


def task_importance(root: str, name: str) -> Dict[str, Any]:
    """Parameter importance of a task (kept apart from :func:`task_data`: fitting it takes a while)."""
    with read_store(TaskPaths(root, name)) as store:
        jobs = store.jobs()
        mode = store.get_meta("optimize_mode") or "maximize"
    return parameter_importance(jobs, _param_columns(jobs), mode)


def log_tail(root: str, name: str, job_id: int, max_bytes: int = 20000) -> Dict[str, Any]:
    """The last ``max_bytes`` of a job's log (the path the store recorded for it)."""
    paths = TaskPaths(root, name)
    with read_store(paths) as store:
        try:
            job = store.job(job_id)
        except KeyError:
            raise UnknownTaskError(f"task {name!r} has no job {job_id}") from None
    if not job.log_path or not os.path.isfile(job.log_path):
        return {"id": job_id, "path": job.log_path, "text": None}
    with open(job.log_path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - max_bytes))
        text = f.read().decode("utf-8", errors="replace")
    if size > max_bytes:
        text = text.split("\n", 1)[-1]
    return {"id": job_id, "path": job.log_path, "text": text, "truncated": size > max_bytes}
