"""Creating, resuming and opening tasks: the steps around a controller run, shared by search-run and search-ctl."""
from __future__ import annotations

import json
import os
import shutil
import time
from typing import Iterable, Optional, Tuple

import yaml

from ...errors import GmlConfigError, GmlError, TaskBusyError
from ..config.search_config import SearchConfig, parse_search_config
from .code_copy import remember_copy_rules
from .lock import TaskLock
from .store import Store
from .workspace import TaskPaths, copy_project, update_summary, write_yaml


class TaskStateError(GmlError):
    exit_code = 2


def _space_fingerprint(config: SearchConfig) -> str:
    return json.dumps(config.raw["task"]["search_args"], sort_keys=True, default=str)


def create_task(paths: TaskPaths, config: SearchConfig, config_path: str, symlinks: Iterable[str] = (),
                excludes: Iterable[str] = ()) -> Tuple[Store, TaskLock]:
    """Make the task directory (project copy, run_config.yaml, store) and hold its lock. The store appears last
    and whole (written aside, then renamed), so a task with a store is a complete one. A directory without a
    store is a creation that was killed before it finished: it is made again. On any failure the half-made
    directory is removed again."""
    if paths.exists():
        raise TaskStateError(f"task {paths.name!r} exists already; resume it with --resume or choose another --task")
    os.makedirs(paths.dir, exist_ok=True)
    lock = TaskLock(paths.lock)
    try:
        lock.acquire(paths.name)
    except TaskBusyError:
        raise TaskStateError(f"task {paths.name!r} is being created by another search-run") from None
    try:
        if paths.exists():     # another search-run made it while this one waited for the lock
            raise TaskStateError(f"task {paths.name!r} exists already; resume it with --resume or choose another "
                                 f"--task")
        for name in os.listdir(paths.dir):      # what a killed creation left
            target = os.path.join(paths.dir, name)
            if target == paths.lock:
                continue
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target)
            else:
                os.remove(target)
        copy_project(paths.root, paths.code, symlinks, excludes)
        os.makedirs(paths.jobs_all)
        os.makedirs(paths.jobs_tree)
        write_yaml(paths.run_config, config.raw)
        partial = paths.db + ".partial"
        store = Store(partial)
        store.set_meta(task=paths.name, created_at=time.time(), config_path=os.path.abspath(config_path),
                       task_dir=paths.dir, search_space=_space_fingerprint(config),
                       reward_attribute=config.searcher.reward_attribute,
                       optimize_mode=config.searcher.optimize_mode, status="CREATED")
        remember_copy_rules(store, symlinks, excludes)
        store.close()
        os.replace(partial, paths.db)
        store = Store(paths.db)
    except BaseException as err:
        lock.release()
        if not (isinstance(err, TaskStateError) and paths.exists()):
            shutil.rmtree(paths.dir, ignore_errors=True)
        raise
    update_summary(paths.root, paths.name, {"status": "CREATED", "config": os.path.abspath(config_path),
                                            "created": time.strftime("%Y-%m-%d %H:%M:%S")})
    return store, lock


def creation_died(paths: TaskPaths) -> bool:
    """The task's directory exists without a store and nobody holds its lock: its creation was killed."""
    return os.path.isdir(paths.dir) and not paths.exists() and not TaskLock(paths.lock).is_held()


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
