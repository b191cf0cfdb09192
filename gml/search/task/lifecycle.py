"""Creating, resuming and opening tasks: the steps around a controller run, shared by search-run and search-ctl."""
from __future__ import annotations

import json
import os
import shutil
import time
from typing import Iterable, Optional, Tuple

import yaml

from ...errors import GmlConfigError, GmlError
from ..config.search_config import SearchConfig, parse_search_config
from .lock import TaskLock
from .store import Store
from .workspace import TaskPaths, copy_project, update_summary, write_yaml


class TaskStateError(GmlError):
    exit_code = 2


def _space_fingerprint(config: SearchConfig) -> str:
    return json.dumps(config.raw["task"]["search_args"], sort_keys=True, default=str)


def create_task(paths: TaskPaths, config: SearchConfig, config_path: str, symlinks: Iterable[str] = (),
                excludes: Iterable[str] = ()) -> Tuple[Store, TaskLock]:
    """Make the task directory (project copy, run_config.yaml, store) and hold its lock. On any failure the
    half-made directory is removed again."""
    if paths.exists():
        raise TaskStateError(f"task {paths.name!r} exists already; resume it with --resume or choose another --task")
    os.makedirs(os.path.dirname(paths.dir), exist_ok=True)
    try:
        os.makedirs(paths.dir)
    except FileExistsError:
        raise TaskStateError(f"task {paths.name!r} is being created by another search-run") from None
    lock = TaskLock(paths.lock)
    try:
        lock.acquire(paths.name)
        copy_project(paths.root, paths.code, symlinks, excludes)
        os.makedirs(paths.jobs_all)
        os.makedirs(paths.jobs_tree)
        write_yaml(paths.run_config, config.raw)
        store = Store(paths.db)
        store.set_meta(task=paths.name, created_at=time.time(), config_path=os.path.abspath(config_path),
                       task_dir=paths.dir, search_space=_space_fingerprint(config),
                       reward_attribute=config.searcher.reward_attribute,
                       optimize_mode=config.searcher.optimize_mode, status="CREATED")
    except BaseException:
        lock.release()
        shutil.rmtree(paths.dir, ignore_errors=True)
        raise
    update_summary(paths.root, paths.name, {"status": "CREATED", "config": os.path.abspath(config_path),
                                            "created": time.strftime("%Y-%m-%d %H:%M:%S")})
    return store, lock


def resume_task(paths: TaskPaths, config: SearchConfig, config_path: str) -> Tuple[Store, TaskLock]:
    """Hold the lock of an existing task and check that ``config`` searches the same space."""
    if not paths.exists():
        raise TaskStateError(f"there is no task {paths.name!r} to resume (drop --resume to start it)")
    lock = TaskLock(paths.lock)
    lock.acquire(paths.name)
    store = Store(paths.db)
    if store.get_meta("search_space") != _space_fingerprint(config):
        store.close()
        lock.release()
        raise GmlConfigError("task.search_args", f"differs from the search space of task {paths.name!r} "
                                                 f"({paths.run_config}); a resumed task keeps its space: start a "
                                                 f"new --task to search another one")
    write_yaml(paths.run_config, config.raw)
    store.set_meta(config_path=os.path.abspath(config_path), reward_attribute=config.searcher.reward_attribute,
                   optimize_mode=config.searcher.optimize_mode)
    return store, lock


def load_task_config(paths: TaskPaths) -> SearchConfig:
    """The config a task last ran with (File paths resolve inside its project copy)."""
    with open(paths.run_config) as f:
        raw = yaml.safe_load(f)
    return parse_search_config(raw, paths.code)


def open_store(paths: TaskPaths) -> Store:
    if not paths.exists():
        raise TaskStateError(f"no task {paths.name!r} in {os.path.dirname(paths.dir)}")
    return Store(paths.db)


def effective_status(store: Store, lock: TaskLock) -> Optional[str]:
    """The stored status, except that a RUNNING task whose controller is gone shows as INTERRUPTED."""
    status = store.get_meta("status")
    if status == "RUNNING" and not lock.is_held():
        return "INTERRUPTED"
    return status
