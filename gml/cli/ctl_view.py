"""search-ctl's viewing commands: ``dashboard``, ``report`` and the ``--tensorboard``/``--optuna`` forms of
``export``. They need the ``dashboard`` extra, imported only when one of them runs (``search-ctl show`` and the
controller stay light)."""
from __future__ import annotations

import argparse
import os
import sys

from ..errors import GmlConfigError
from ..search.task.lifecycle import TaskStateError
from ..search.task.workspace import TaskPaths
from . import ctl_ops


def add_view_commands(sub, export: argparse.ArgumentParser) -> None:
    """Add ``dashboard`` and ``report`` to search-ctl's subcommands and the view options to ``export``."""
    dash = sub.add_parser("dashboard", help="a read-only web view of the tasks (local web server)")
    dash.add_argument("-t", "--task", help="print the address of this task's page too")
    dash.add_argument("--port", type=int, default=8080, help="port to listen on (0: a free one; default 8080)")
    dash.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1: this machine only)")
    rep = sub.add_parser("report", help="write a task's plots to one self-contained HTML file")
    rep.add_argument("-t", "--task", required=True)
    rep.add_argument("--out", help="output file (default: ./<task>-report.html)")
    export.add_argument("--tensorboard", metavar="DIR",
                        help="write TensorBoard runs (HParams + scalars) to DIR instead of a tar.gz")
    export.add_argument("--optuna", metavar="URL",
                        help="write the task as an Optuna study to this storage, e.g. sqlite:///study.db")
    export.add_argument("--study-name", help="with --optuna: the study's name (default: the task's)")


def _existing(paths: TaskPaths) -> TaskPaths:
    if not paths.exists():
        raise TaskStateError(f"no task {paths.name!r} in {os.path.dirname(paths.dir)}")
    return paths


def dashboard(root: str, args: argparse.Namespace) -> int:
    from ..dashboard.extras import require
    require("plotly", "search-ctl dashboard")
    from ..dashboard.server import make_server
    if not 0 <= args.port <= 65535:
        raise GmlConfigError("--port", f"expected a port number from 0 to 65535, got {args.port}")
    paths = _existing(TaskPaths(root, args.task)) if args.task else None
    server = make_server(root, args.host, args.port)
    print(f"gml dashboard of {root}: {server.url} (read-only; Ctrl+C stops it)", flush=True)
    if paths is not None:
        print(f"task {paths.name}: {server.url}task/{paths.name}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("dashboard stopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0


def report(root: str, args: argparse.Namespace) -> int:
    from ..dashboard.report import write_report
    paths = _existing(TaskPaths(root, args.task))
    out = args.out or f"{paths.name}-report.html"
    size = write_report(root, paths.name, out)
    print(f"written: {out} ({size / 1e6:.1f} MB, opens offline)")
    return 0


def export(root: str, args: argparse.Namespace) -> int:
    """``--tensorboard``/``--optuna`` write those; the tar.gz is written when neither is given or ``--tar-path``
    is."""
    paths = _existing(TaskPaths(root, args.task))
    if args.study_name and not args.optuna:
        raise GmlConfigError("--study-name", "only goes with --optuna")
    if args.tensorboard:
        from ..dashboard.export_tensorboard import export_tensorboard
        runs = export_tensorboard(root, paths.name, args.tensorboard)
        print(f"exported {paths.name} to {args.tensorboard}: {runs} job runs "
              f"(tensorboard --logdir {args.tensorboard}, HParams tab)")
    if args.optuna:
        from ..dashboard.export_optuna import export_optuna
        trials = export_optuna(root, paths.name, args.optuna, args.study_name)
        print(f"exported {paths.name} to {args.optuna}: study {args.study_name or paths.name!r}, {trials} trials "
              f"(optuna-dashboard {args.optuna})")
    if args.tar_path or not (args.tensorboard or args.optuna):
        return ctl_ops.export(paths, args.tar_path or f"{paths.name}.tar.gz")
    return 0
