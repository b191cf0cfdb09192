"""search-ctl: inspect and manage tasks while they run and after (reads stores; asks controllers to act)."""
from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time
from typing import List, Optional, Tuple

import yaml

from ..errors import GmlConfigError
from ..search.config.durations import format_duration
from ..search.task.jobs import JobStatus
from ..search.task.lock import TaskLock
from ..search.task.store import RequestAction
from ..search.task.lifecycle import effective_status, open_store
from ..search.task.summary_files import job_summary, task_summary
from ..search.task.workspace import TaskPaths, find_root, list_task_names, read_summary
from . import ctl_ops, ctl_pareto, ctl_view
from .common import output_width, table, user_errors


def _parse_ids(text: Optional[str]) -> Optional[List[int]]:
    if text is None:
        return None
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise GmlConfigError("--jobs", f"expected job ids like 0,3,7, got {text!r}") from None


PLACEHOLDERS = {"hp_metric": -1.0}   # Lightning logs hp_metric = -1 when the user logs no hyper-parameter metric


def _param_names(jobs) -> List[str]:
    names: List[str] = []
    for job in jobs:
        names.extend(n for n in job.params if n not in names)
    return names


def _own_copies(paths: TaskPaths, jobs, names: List[str]) -> List[str]:
    """The params whose value is, for every job, a file in that job's own directory (a File arg's copy): the
    column tells nothing the job id does not."""
    def own(job, name):
        value = job.params.get(name)
        return value is None or (isinstance(value, str) and os.path.dirname(value) == paths.job_dir(job.id))
    return [n for n in names if jobs and all(own(j, n) for j in jobs)]


def _placeholders(scalars_by_name) -> List[str]:
    """Scalar names holding only a logger's placeholder value (Lightning's ``hp_metric`` = -1)."""
    return [n for n, values in scalars_by_name.items()
            if n in PLACEHOLDERS and values and all(v == PLACEHOLDERS[n] for v in values)]


def _column_names(params: List[str], scalars: List[str]) -> Tuple[List[str], List[str]]:
    """Headers for param and scalar columns; a name that is both says which is which."""
    both = set(params) & set(scalars)
    return ([f"{n} (param)" if n in both else n for n in params],
            [f"{n} (last)" if n in both else n for n in scalars])


def _copies_note(jobs, copies: List[str]) -> str:
    shown = ", ".join(f"{n} = jobs/all/<id>/{os.path.basename(str(jobs[0].params[n]))}" for n in copies
                      if jobs[0].params.get(n) is not None)
    return f"(not shown: {shown}, each job's own copy)" if shown else ""


def _param_cells(job, names) -> list:
    return [job.params.get(n) for n in names]


def _shown_reward(store, job, reward_name):
    """The reward of an ended job; for a running one its latest value so far, marked as such."""
    if job.reward is not None or job.status != JobStatus.RUNNING or not reward_name:
        return job.reward
    curve = store.scalars(job.id, reward_name)
    return None if not curve or curve[-1][2] is None else f"{curve[-1][2]:.6g} (step {curve[-1][1]}, so far)"


def _status_cell(job) -> str:
    """A job's status, marked when it broke ``searcher.constraints`` (it is then never the best)."""
    return f"{job.status.value} (infeasible)" if job.infeasible else job.status.value


def _scalars_by_name(store, job_id: int):
    out = {}
    for name, step, value in store.scalars(job_id):
        out.setdefault(name, {})[step] = value
    return out


def _short_time(t: Optional[float]) -> Optional[str]:
    return None if t is None else time.strftime("%m-%d %H:%M:%S", time.localtime(t))


def _took(job) -> Optional[str]:
    if job.start_time is None:
        return None
    end = job.end_time if job.end_time is not None else time.time()
    return format_duration(max(0.0, end - job.start_time))


def cmd_show_all(root: str) -> int:
    rows = []
    names = list_task_names(root)
    for name in names:
        paths = TaskPaths(root, name)
        store = open_store(paths)
        summary = task_summary(store)
        counts = summary["jobs"]
        done = sum(n for s, n in counts.items() if JobStatus(s).is_terminal and s != "FILTERED")
        total = sum(n for s, n in counts.items() if s != "FILTERED")
        best = summary["best"]
        rows.append([name, effective_status(store, TaskLock(paths.lock)), f"{done}/{total}",
                     None if best is None else f"{summary['reward_attribute']}={best['reward']:.6g} (job {best['id']})",
                     summary["updated"] or summary["created"]])
        store.close()
    for name, entry in read_summary(root).items():
        if name not in names and entry.get("removed_at"):
            rows.append([name, "REMOVED", "-", None, entry.get("removed_at")])
    print(table(rows, ["task", "status", "done", "best", "updated"]) if rows else "no tasks yet")
    return 0


def cmd_show_task(paths: TaskPaths, ids, out: Optional[str], with_scalars: bool) -> int:
    store = open_store(paths)
    summary = task_summary(store)
    summary["status"] = effective_status(store, TaskLock(paths.lock))
    jobs = store.jobs(ids=ids)
    records = [job_summary(j, _scalars_by_name(store, j.id) if with_scalars else None) for j in jobs]
    if out:
        with open(out, "w") as f:
            yaml.safe_dump({"task": summary, "jobs": records}, f, sort_keys=False)
        print(f"written: {out}")
        return 0
    print(f"task:    {paths.name} ({summary['status']}{': ' + summary['reason'] if summary['reason'] else ''})")
    print(f"config:  {summary['config']}")
    print(f"dir:     {paths.dir}")
    print(f"jobs:    {', '.join(f'{n} {s}' for s, n in summary['jobs'].items()) or 'none'}")
    waiting = [r for r in store.open_requests() if r.action == RequestAction.ENQUEUE]
    if waiting:
        print(f"waiting: {len(waiting)} enqueued configuration(s), run next by the controller (or on --resume)")
    for warning in summary["warnings"]:
        print("\n".join(f"WARNING: {line}" for line in warning.splitlines()))
    if summary["best"]:
        best = summary["best"]
        best_record = next((j for j in store.jobs(ids=[best["id"]])), None)
        copies = _own_copies(paths, [best_record], list(best["params"])) if best_record else []
        params = ", ".join(f"{k}={v}" for k, v in best["params"].items() if k not in copies)
        print(textwrap.fill(f"best:    job {best['id']} {summary['reward_attribute']}={best['reward']:.6g}  {params}",
                            width=output_width(), subsequent_indent=" " * 9))
    print()
    names = _param_names(jobs)
    copies = _own_copies(paths, jobs, names)
    names = [n for n in names if n not in copies]
    rows = [[j.id, _status_cell(j), _shown_reward(store, j, summary["reward_attribute"])] + _param_cells(j, names)
            + [_short_time(j.start_time), _took(j)] for j in jobs]
    print(table(rows, ["id", "status", summary["reward_attribute"] or "reward"] + names + ["start", "took"]))
    if copies:
        print(_copies_note(jobs, copies))
    if ids is None:
        print("\n(--jobs ID,... adds each job's command and paths; --out FILE writes everything as YAML)")
    for job in jobs:
        if ids is not None:
            print(f"\njob {job.id}:\n  command:  {job.command}\n  run_path: {job.run_path}\n  log:      {job.log_path}"
                  f"\n  dir:      {paths.job_dir(job.id)}")
        if job.error:
            print(f"\njob {job.id} {job.status.value}: {job.error}")
        if job.stopped_step is not None:
            print(f"\njob {job.id} stopped early at step {job.stopped_step}")
    if with_scalars:
        for job, record in zip(jobs, records):
            scalars = record["scalars"]
            hidden = _placeholders({n: list(v.values()) for n, v in scalars.items()})
            names = sorted(n for n in scalars if n not in hidden)
            if not names:
                continue
            steps = sorted({s for values in scalars.values() for s in values})
            print(f"\njob {job.id} scalars:")
            print(table([[s] + [scalars[n].get(s) for n in names] for s in steps], ["step"] + names))
    store.close()
    return 0


def cmd_show_scalar(paths: TaskPaths, rank: str) -> int:
    try:
        k = int(rank)
    except ValueError:
        raise GmlConfigError("-rt", f"expected +K (best first) or -K (worst first), got {rank!r}") from None
    store = open_store(paths)
    mode = store.get_meta("optimize_mode", "maximize")
    reward_name = store.get_meta("reward_attribute", "reward")
    scored = [j for j in store.jobs() if j.reward is not None]
    best_first = sorted(scored, key=lambda j: j.reward, reverse=(mode == "maximize"))
    best_first.sort(key=lambda j: j.infeasible)     # jobs that broke searcher.constraints rank after all others
    chosen = best_first[:abs(k)] if k >= 0 else list(reversed(best_first))[:abs(k)]
    values = {}
    for job in chosen:
        for n, _, v in store.scalars(job.id):
            values.setdefault(n, []).append(v)
    hidden = _placeholders(values)
    names = sorted(n for n in values if n != reward_name and n not in hidden)
    params = _param_names(chosen)
    copies = _own_copies(paths, chosen, params)
    params = [n for n in params if n not in copies]
    rows = []
    for rank_no, job in enumerate(chosen, 1):
        last = {n: v for n, _, v in store.scalars(job.id)}    # rows come in step order: the last value wins
        rows.append([rank_no, job.id, _status_cell(job), job.reward] + [last.get(n) for n in names]
                    + _param_cells(job, params))
    param_headers, scalar_headers = _column_names(params, names)
    if not rows:
        print("no job has a reward yet")
    else:
        print(table(rows, ["rank", "id", "status", reward_name] + scalar_headers + param_headers, keep=2))
        notes = [f"(scalar columns, each job's last reported value: {', '.join(scalar_headers)})"] if names else []
        if copies:
            notes.append(_copies_note(chosen, copies))
        if hidden:
            notes.append(f"hidden: {', '.join(hidden)} (only a logger's placeholder value)")
        for note in notes:
            print(note)
    store.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="search-ctl", description="Inspect and manage search tasks.")
    sub = p.add_subparsers(dest="command", required=True)
    show = sub.add_parser("show", help="all tasks, or one task's jobs with -t")
    show.add_argument("-t", "--task")
    show.add_argument("--jobs", help="only these job ids, e.g. 0,3")
    show.add_argument("--out", help="write the task and its jobs to this YAML file")
    show.add_argument("--scalar", action="store_true", help="include each job's scalars per step")
    scal = sub.add_parser("show-scalar", help="the top jobs by reward")
    scal.add_argument("-t", "--task", required=True)
    scal.add_argument("-rt", "--rank", default="+10", help="+K: the K best first; -K: the K worst first")
    scal.add_argument("--pareto", action="store_true", help="the Pareto front of a multi-objective task")
    stop = sub.add_parser("stop", help="end a task: PENDING/RUNNING jobs become KILLED, their processes end")
    stop.add_argument("-t", "--task", required=True)
    stop.add_argument("--timeout", type=float, default=120, help="seconds to wait for the controller")
    enq = sub.add_parser("enqueue", help="run a configuration of your choice in a running or finished task")
    enq.add_argument("-t", "--task", required=True)
    enq.add_argument("--params", nargs="+", required=True, metavar="NAME=VALUE",
                     help="every searched arg, e.g. lr=0.05 wd=1e-4 (File inner args as 'config(epochs)=3')")
    rm = sub.add_parser("rm", help="delete a task (its entry in summary.yaml is kept)")
    rm.add_argument("-t", "--task", required=True)
    exp = sub.add_parser("export", help="pack a task into a tar.gz")
    exp.add_argument("-t", "--task", required=True)
    exp.add_argument("--tar-path", help="output file (default: ./<task>.tar.gz)")
    imp = sub.add_parser("import", help="unpack a task exported with `export`")
    imp.add_argument("--tar-path", required=True)
    imp.add_argument("-t", "--task", help="name for the imported task (default: its exported name)")
    imp.add_argument("--force", action="store_true", help="replace an existing task of that name")
    ctl_view.add_view_commands(sub, exp)
    return p


@user_errors("search-ctl")
def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    root = find_root()
    if args.command == "show":
        if not args.task:
            return cmd_show_all(root)
        return cmd_show_task(TaskPaths(root, args.task), _parse_ids(args.jobs), args.out, args.scalar)
    if args.command == "show-scalar" and args.pareto:
        return ctl_pareto.show_pareto(TaskPaths(root, args.task))
    if args.command == "show-scalar":
        return cmd_show_scalar(TaskPaths(root, args.task), args.rank)
    if args.command == "stop":
        return ctl_ops.stop(TaskPaths(root, args.task), args.timeout)
    if args.command == "enqueue":
        return ctl_ops.enqueue(TaskPaths(root, args.task), args.params)
    if args.command == "rm":
        return ctl_ops.remove(TaskPaths(root, args.task))
    if args.command == "export":
        return ctl_view.export(root, args)
    if args.command == "dashboard":
        return ctl_view.dashboard(root, args)
    if args.command == "report":
        return ctl_view.report(root, args)
    return ctl_ops.import_(root, args.tar_path, args.task, args.force)


if __name__ == "__main__":
    sys.exit(main())
