"""Where a search keeps its things: the ``.search-run/`` directory of a project and each task's paths.

```
<project>/.search-run/
  summary.yaml                 one entry per task (kept after `search-ctl rm`)
  tasks/<task>/
    run_config.yaml            the config as run       state.db        the task's store (SQLite, WAL)
    task.yaml                  state summary           controller.lock held by the running controller
    code/                      the project as it was when the task started
    jobs/all/<i>/              log, scalars.jsonl, exit_code, generated config files (GML_JOB_DIR)
    jobs/all/<i>/cwd/          the job's working directory: a link to each top-level entry of code/; what the
                               job creates there (lightning_logs/, mlruns/, outputs/ ...) is its own
    jobs/tree/<arg>/<value>/...  -> ../../all/<i>
```
"""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import time
from contextlib import contextmanager
from typing import Dict, Iterable, Iterator, List, Optional

import yaml

from ...errors import GmlConfigError, GmlError

SEARCH_DIR = ".search-run"
_TASK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Output that training code and its loggers write into the working directory: a previous run's output is not
# part of the code a job needs, and each job writes its own into its working directory.
LOGGER_OUTPUTS = ("work_dirs", "lightning_logs", "mlruns", "mlartifacts", "wandb", "outputs", "multirun", "runs",
                  ".aim")
DEFAULT_EXCLUDES = (SEARCH_DIR, ".git", "__pycache__", ".pytest_cache", "*.egg-info") + LOGGER_OUTPUTS
WORK_DIR = "cwd"


class NoWorkspaceError(GmlError):
    exit_code = 2


def find_root(start: Optional[str] = None) -> str:
    """The nearest directory at or above ``start`` that holds ``.search-run/``."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        if os.path.isdir(os.path.join(here, SEARCH_DIR)):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            raise NoWorkspaceError(f"no {SEARCH_DIR}/ in {os.path.abspath(start or os.getcwd())} or above; "
                                   f"run search-init in your project root first")
        here = parent


def init_workspace(root: str) -> str:
    path = os.path.join(os.path.abspath(root), SEARCH_DIR)
    os.makedirs(os.path.join(path, "tasks"), exist_ok=True)
    summary = os.path.join(path, "summary.yaml")
    if not os.path.exists(summary):
        _write_yaml(summary, {"tasks": {}})
    return path


def check_task_name(name: str) -> str:
    if not isinstance(name, str) or not _TASK_NAME.match(name):
        raise GmlConfigError("--task", f"a task name is letters, digits, '_', '-' and '.', not starting with "
                                       f"'.' or '-'; got {name!r}")
    return name


class TaskPaths:
    def __init__(self, root: str, name: str):
        self.root = os.path.abspath(root)
        self.name = check_task_name(name)
        self.dir = os.path.join(self.root, SEARCH_DIR, "tasks", name)
        self.db = os.path.join(self.dir, "state.db")
        self.lock = os.path.join(self.dir, "controller.lock")
        self.run_config = os.path.join(self.dir, "run_config.yaml")
        self.task_yaml = os.path.join(self.dir, "task.yaml")
        self.code = os.path.join(self.dir, "code")
        self.jobs_all = os.path.join(self.dir, "jobs", "all")
        self.jobs_tree = os.path.join(self.dir, "jobs", "tree")

    def exists(self) -> bool:
        return os.path.exists(self.db)

    def job_dir(self, job_id: int) -> str:
        return os.path.join(self.jobs_all, str(job_id))

    def job_work_dir(self, job_id: int) -> str:
        """The job's working directory (see :func:`make_work_dir`)."""
        return os.path.join(self.job_dir(job_id), WORK_DIR)


def list_task_names(root: str) -> List[str]:
    tasks = os.path.join(root, SEARCH_DIR, "tasks")
    if not os.path.isdir(tasks):
        return []
    return sorted(n for n in os.listdir(tasks) if os.path.exists(os.path.join(tasks, n, "state.db")))


def _is_virtualenv(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "pyvenv.cfg"))


class CopyRules:
    """What a task's copy of the project leaves out and links: ``ignore(directory, names)`` (shutil.copytree's
    protocol) skips ``.search-run``, ``.git``, caches, logger output, virtual environments, ``excludes`` (glob
    patterns on names) and the ``symlinks`` paths, which ``linked`` maps (absolute target -> path relative to the
    project) to be linked instead of copied."""

    def __init__(self, root: str, symlinks: Iterable[str] = (), excludes: Iterable[str] = ()):
        self.root = os.path.abspath(root)
        self.linked: Dict[str, str] = {}
        for i, link in enumerate(symlinks):
            target = os.path.abspath(os.path.join(self.root, link))
            rel = os.path.relpath(target, self.root)
            if rel.startswith(".."):
                raise GmlConfigError(f"--symlinks[{i}]", f"{link!r} is outside the project {self.root}")
            if not os.path.exists(target):
                raise GmlConfigError(f"--symlinks[{i}]", f"{link!r} does not exist in {self.root}")
            self.linked[target] = rel
        self._patterns = shutil.ignore_patterns(*DEFAULT_EXCLUDES, *excludes)

    def ignore(self, directory: str, names: List[str]) -> set:
        skipped = set(self._patterns(directory, names))
        for name in names:
            full = os.path.join(directory, name)
            if full in self.linked or (os.path.isdir(full) and _is_virtualenv(full)):
                skipped.add(name)
        return skipped


def copy_project(root: str, dest: str, symlinks: Iterable[str] = (), excludes: Iterable[str] = ()) -> None:
    """Copy the project at ``root`` to ``dest`` under :class:`CopyRules`: the ``symlinks`` paths are linked (not
    copied); ``.search-run``, ``.git``, caches, logger output, virtual environments and ``excludes`` are left out."""
    rules = CopyRules(root, symlinks, excludes)
    shutil.copytree(rules.root, dest, symlinks=True, ignore=rules.ignore)
    for target, rel in rules.linked.items():
        where = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(where), exist_ok=True)
        os.symlink(target, where)


def make_work_dir(code_dir: str, work_dir: str) -> str:
    """Make ``work_dir`` a job's own working directory onto the code copy ``code_dir``: it holds a symbolic link
    to each top-level entry of ``code_dir`` (relative, so an exported task stays whole), so the job's reads (relative paths,
    ``python tools/train.py``, imports, ``--symlinks`` paths) resolve to the copy, while every file or directory
    the job creates at its top level (``lightning_logs/``, ``work_dirs/``, ``mlruns/``) is the job's alone.
    Writing *into* a directory the project holds writes into the shared copy. An existing ``work_dir`` is
    replaced. Returns ``work_dir``."""
    if os.path.lexists(work_dir):
        shutil.rmtree(work_dir)
    os.makedirs(work_dir)
    relative = os.path.relpath(os.path.realpath(code_dir), os.path.realpath(work_dir))
    for name in sorted(os.listdir(code_dir)):
        os.symlink(os.path.join(relative, name), os.path.join(work_dir, name))
    return work_dir


def _write_yaml(path: str, data) -> None:
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        yaml.safe_dump(data, f, sort_keys=False, default_flow_style=False)
    os.replace(tmp, path)


write_yaml = _write_yaml


@contextmanager
def _locked(path: str) -> Iterator[None]:
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def update_summary(root: str, task: str, entry: Optional[dict]) -> None:
    """Merge ``entry`` into the task's summary (None keeps the entry but marks it removed)."""
    path = os.path.join(root, SEARCH_DIR, "summary.yaml")
    with _locked(path):
        try:
            with open(path) as f:
                data = yaml.safe_load(f) or {}
        except FileNotFoundError:
            data = {}
        tasks = data.setdefault("tasks", {}) or {}
        data["tasks"] = tasks
        current = tasks.get(task) or {}
        if entry is None:
            current["removed_at"] = time.strftime("%Y-%m-%d %H:%M:%S")
        else:
            current.update(entry)
            current.pop("removed_at", None)
        tasks[task] = current
        _write_yaml(path, data)


def read_summary(root: str) -> dict:
    try:
        with open(os.path.join(root, SEARCH_DIR, "summary.yaml")) as f:
            return (yaml.safe_load(f) or {}).get("tasks") or {}
    except FileNotFoundError:
        return {}
