"""search-ctl's actions that change things: stop, enqueue, rm, export, import."""
from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import time

from ..errors import GmlConfigError, GmlError
from ..launchers.base import JobSpec
from ..search.config.build import build_launcher, import_custom_modules
from ..search.task.jobs import JobStatus
from ..search.task.lock import TaskLock
from ..search.task.lifecycle import TaskStateError, load_task_config, open_store
from ..search.space.dimensions import canonical_key
from ..search.task.store import RequestAction
from ..search.warm_start import parse_cli_params, point_from_params
from ..search.task.summary_files import write_task_yaml
from ..search.task.workspace import SEARCH_DIR, TaskPaths, check_task_name, update_summary


def stop(paths: TaskPaths, timeout: float) -> int:
    """Ask the running controller to stop, or, when none runs, end the task's jobs directly."""
    store = open_store(paths)
    lock = TaskLock(paths.lock)
    try:
        if lock.is_held():
            store.add_request(RequestAction.STOP)
            deadline = time.monotonic() + timeout
            while lock.is_held():
                if time.monotonic() > deadline:
                    raise GmlError(f"the controller of {paths.name!r} did not stop within {timeout:.0f}s")
                time.sleep(0.1)
            print(f"stopped {paths.name}: {store.get_meta('reason')}")
            return 0
        lock.acquire(paths.name)
        try:
            _stop_without_controller(paths, store)
        finally:
            lock.release()
        print(f"stopped {paths.name} (no controller was running)")
        return 0
    finally:
        store.close()


def _stop_without_controller(paths: TaskPaths, store) -> None:
    active = store.jobs([JobStatus.RUNNING, JobStatus.PENDING])
    if active:
        config = load_task_config(paths)
        import_custom_modules(config)
        launcher = build_launcher(config)
        for job in active:
            store.record_end_intent(job.id, JobStatus.KILLED, "stopped by search-ctl stop")
            if job.external_id:
                spec = JobSpec(job.id, paths.name, job.command or "", job.run_path or paths.code,
                               paths.job_dir(job.id), job.log_path)
                if launcher.adopt(job.external_id, spec):
                    launcher.cancel(job.external_id)
            store.update_job(job.id, status=JobStatus.KILLED, end_time=time.time(), error="stopped by search-ctl stop")
        launcher.close()
    store.set_meta(status="STOPPED", reason="stopped by search-ctl stop", updated_at=time.time())
    summary = write_task_yaml(paths, store)
    update_summary(paths.root, paths.name, {"status": "STOPPED", "jobs": summary["jobs"], "best": summary["best"]})


def enqueue(paths: TaskPaths, items) -> int:
    """Ask the task to run one configuration (``items``: NAME=VALUE params) before the searcher's next ones,
    checked against the task's search space first. A running controller picks the request up within a cycle;
    otherwise it waits, open, for the next ``search-run --resume``."""
    store = open_store(paths)
    try:
        config = load_task_config(paths)
        point = point_from_params(config.space, parse_cli_params(items), "--params")
        key = canonical_key(point)
        for job in store.jobs():
            if canonical_key(job.point) == key:
                raise GmlConfigError("--params", f"this configuration is job {job.id} of task {paths.name!r} "
                                                 f"already ({job.status.value})")
        for request in store.open_requests():
            if request.action == RequestAction.ENQUEUE and canonical_key(request.payload) == key:
                raise GmlConfigError("--params", f"this configuration is enqueued already (request {request.id})")
        store.add_request(RequestAction.ENQUEUE, point)
        params = config.space.params(point)
        if TaskLock(paths.lock).is_held():
            print(f"enqueued in {paths.name}: {params} (the running controller launches it next)")
        else:
            print(f"enqueued in {paths.name}: {params} (no controller runs: it runs first on "
                  f"search-run --task {paths.name} ... --resume)")
        return 0
    finally:
        store.close()


def remove(paths: TaskPaths) -> int:
    open_store(paths).close()
    lock = TaskLock(paths.lock)
    lock.acquire(paths.name)   # refuses while a controller runs
    try:
        shutil.rmtree(paths.dir)
    finally:
        lock.release()
    update_summary(paths.root, paths.name, None)
    print(f"removed {paths.name} (its entry stays in {SEARCH_DIR}/summary.yaml)")
    return 0


def export(paths: TaskPaths, tar_path: str) -> int:
    store = open_store(paths)
    with tempfile.TemporaryDirectory() as tmp:
        snapshot = os.path.join(tmp, "state.db")
        store.backup(snapshot)
        store.close()
        skip = {"state.db", "state.db-wal", "state.db-shm", "controller.lock"}
        with tarfile.open(tar_path, "w:gz") as tar:
            tar.add(paths.dir, arcname=paths.name,
                    filter=lambda info: None if os.path.basename(info.name) in skip
                    and os.path.dirname(info.name) == paths.name else info)
            tar.add(snapshot, arcname=f"{paths.name}/state.db")
    print(f"exported {paths.name} to {tar_path}")
    return 0


def _keep_inside(member: tarfile.TarInfo, dest: str, dropped: list):
    """tarfile's data filter, except that a symlink leaving the task (a --symlinks link to the project's data)
    is left out and noted instead of failing the whole import."""
    if member.issym():
        target = os.path.normpath(os.path.join(os.path.dirname(member.name), member.linkname))
        if os.path.isabs(member.linkname) or target.startswith(".."):
            dropped.append(member.name)
            return None
    return tarfile.data_filter(member, dest)


def _safe_members(tar: tarfile.TarFile):
    """The archive's single top folder; refuses absolute paths, '..' in names and hard links."""
    tops = set()
    for member in tar.getmembers():
        name = member.name
        if name.startswith("/") or ".." in name.split("/"):
            raise TaskStateError(f"{tar.name}: unsafe path {name!r} in the archive")
        if member.islnk():
            raise TaskStateError(f"{tar.name}: hard link {name!r} in the archive")
        tops.add(name.split("/")[0])
    if len(tops) != 1:
        raise TaskStateError(f"{tar.name}: expected one task folder in the archive, found {sorted(tops)}")
    return tops.pop()


def import_(root: str, tar_path: str, task, force: bool) -> int:
    if not os.path.isfile(tar_path):
        raise TaskStateError(f"no such archive: {tar_path}")
    with tarfile.open(tar_path, "r:*") as tar:
        top = _safe_members(tar)
        name = check_task_name(task or top)
        paths = TaskPaths(root, name)
        if paths.exists() and not force:
            raise TaskStateError(f"task {name!r} exists; use --force to replace it or --task to rename")
        tasks_dir = os.path.dirname(paths.dir)
        os.makedirs(tasks_dir, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".import-", dir=tasks_dir)
        try:
            dropped: list = []
            if hasattr(tarfile, "data_filter"):    # Python >= 3.11.4 / 3.10.12: the stdlib's own safety net too
                tar.extractall(staging, filter=lambda m, dest: _keep_inside(m, dest, dropped))
            else:
                tar.extractall(staging)           # members were checked by _safe_members above
            if dropped:
                print(f"not imported (links to paths outside the task, e.g. --symlinks data): {', '.join(dropped)}")
            if paths.exists():
                lock = TaskLock(paths.lock)
                lock.acquire(name)
                shutil.rmtree(paths.dir)
                lock.release()
            os.replace(os.path.join(staging, top), paths.dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    store = open_store(paths)
    old_dir = store.get_meta("task_dir")
    if old_dir and old_dir != paths.dir:
        store.relocate(old_dir, paths.dir)
    if store.get_meta("status") == "RUNNING":
        store.set_meta(status="INTERRUPTED")
    store.set_meta(task=name, task_dir=paths.dir)
    summary = write_task_yaml(paths, store)
    store.close()
    update_summary(root, name, {"status": summary["status"], "jobs": summary["jobs"], "best": summary["best"],
                                "imported_from": os.path.abspath(tar_path)})
    print(f"imported {name} from {tar_path}")
    return 0
