"""search-run: create (or resume) a task and run its controller in the foreground until the search ends."""
from __future__ import annotations

import argparse
import sys

from ..search.config.build import build_components
from ..search.config.search_config import load_search_config
from ..search.controller import Controller
from ..search.task.jobs import TaskStatus
from ..search.task.code_copy import check_code_at_resume
from ..search.task.lifecycle import create_task, creation_died, resume_task
from ..search.task.workspace import TaskPaths, check_task_name, find_root
from ..errors import GmlConfigError
from .common import user_errors

EXIT_CODES = {TaskStatus.FINISHED: 0, TaskStatus.STOPPED: 0, TaskStatus.INTERRUPTED: 130, TaskStatus.FAILED: 1}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="search-run", description="Run a hyper-parameter search (a task) in the "
                                "foreground. The project (the directory holding .search-run/) is copied for the "
                                "task first, so editing code while it runs changes no running job.")
    p.add_argument("config", help="the search config (YAML)")
    p.add_argument("-t", "--task", default="default", help="task name (default: %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue an existing task: adopt its running jobs, "
                   "rerun its ERROR jobs, then go on searching")
    p.add_argument("--refresh-code", action="store_true", help="with --resume: copy the project again for the "
                   "jobs that start from now on (running and ended jobs keep the copy they ran on)")
    p.add_argument("--symlinks", nargs="+", default=None, metavar="PATH",
                   help="project paths (data, checkpoints) to link into the task's copy instead of copying")
    p.add_argument("--exclude", nargs="+", default=None, metavar="PATTERN",
                   help="name patterns left out of the task's copy (besides .git, .search-run, caches, venvs, "
                   "logger output)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    return p


@user_errors("search-run")
def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    check_task_name(args.task)
    if args.refresh_code and not args.resume:
        raise GmlConfigError("--refresh-code", "only with --resume (a new task copies the project anyway)")
    root = find_root()
    config = load_search_config(args.config, base_dir=root)
    parts = build_components(config)          # every named class is checked before anything is written
    paths = TaskPaths(root, args.task)
    if args.resume and not creation_died(paths):
        store, lock = resume_task(paths, config, args.config)
        try:
            check_code_at_resume(paths, store, args.refresh_code, sys.stderr, args.symlinks, args.exclude)
        except BaseException:
            store.close()
            lock.release()
            raise
    else:
        store, lock = create_task(paths, config, args.config, args.symlinks or [], args.exclude or [])
    try:
        controller = Controller(paths, config, parts, store, lock, out=sys.stderr, show_progress=not args.quiet)
        status = controller.run()
    finally:
        store.close()
        lock.release()
    return EXIT_CODES[status]


if __name__ == "__main__":
    sys.exit(main())
