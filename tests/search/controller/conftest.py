"""A controller on a real store and task directory, with a scripted launcher and a clock the test moves.

The launcher records each call with what a *second* connection to the store saw at that moment (committed state
only), so a test can check that the store was written before the launcher acted. Jobs do nothing on their own:
the test sets the state ``poll`` answers (``states``) and writes scalars files as ``gml.report`` does."""
import io
import json
import os
from types import SimpleNamespace

import pytest

from gml.launchers.base import JobState, Launcher, LaunchError, Status
from gml.reporting import SCALARS_FILE
from gml.search.config.build import Components, build_searcher
from gml.search.config.search_config import parse_search_config
from gml.search.controller import Controller
from gml.search.criteria import build_filters, build_stop_criteria
from gml.search.task.lock import TaskLock
from gml.search.task.store import Store
from gml.search.task.workspace import TaskPaths


class FakeClock:
    def __init__(self):
        self.wall, self.mono = 1_000_000.0, 0.0

    def time(self):
        return self.wall

    def monotonic(self):
        return self.mono

    def advance(self, seconds):
        self.wall += seconds
        self.mono += seconds


class ScriptedLauncher(Launcher):
    poll_interval = 1.0

    def __init__(self, db_path):
        self.reader = Store(db_path)
        self.calls = []
        self.states = {}          # external id -> Status that poll answers
        self.refuse = set()       # job ids whose submission is refused
        self.alive = set()        # external ids that adopt() takes back
        self.traces = {}          # job id -> external id that recover() finds

    def submit(self, spec):
        job = self.reader.job(spec.job_id)
        self.calls.append(("submit", spec.job_id, job.status.value, job.submitted_at, job.command))
        if spec.job_id in self.refuse:
            raise LaunchError("the queue refused it")
        external_id = f"{spec.job_id}.{job.attempt}"
        self.states[external_id] = Status(JobState.QUEUED)
        return external_id

    def poll(self, external_ids):
        self.calls.append(("poll", tuple(external_ids)))
        return {eid: self.states.get(eid, Status(JobState.LOST)) for eid in external_ids}

    def cancel(self, external_id):
        job = self.reader.job(int(external_id.split(".")[0]))
        self.calls.append(("cancel", job.id, job.status.value, job.end_intent and job.end_intent.value,
                           job.end_reason))
        self.states[external_id] = Status(JobState.CANCELLED, 143)

    def adopt(self, external_id, spec):
        self.calls.append(("adopt", external_id))
        return external_id in self.alive

    def recover(self, spec):
        return self.traces.get(spec.job_id)

    def close(self):
        self.reader.close()

    def submitted(self):
        return [c[1] for c in self.calls if c[0] == "submit"]


def report(job_dir, step, **values):
    """Append one line to a job's scalars file, as gml.report does."""
    os.makedirs(job_dir, exist_ok=True)
    with open(os.path.join(job_dir, SCALARS_FILE), "a") as f:
        f.write(json.dumps({"step": step, "time": 0.0, "scalars": values}) + "\n")


@pytest.fixture
def harness(tmp_path):
    """``make(values=..., parallel=2, scheduler={...}, assessor=None, searcher_keys={...})``: a fresh task; returns a namespace with
    paths, config, store, launcher, clock, controller (and its launching and watching parts) and ``report``."""
    made = []

    def make(values=(0.1, 0.2, 0.3), parallel=2, scheduler=None, assessor=None, searcher="GridSearcher",
             searcher_keys=None):
        (tmp_path / "train.py").write_text("print('never run: the launcher is scripted')\n")
        raw = {"task": {"template": "python train.py --lr {lr}",
                        "search_args": [{"type": "Categorical", "name": "lr", "data": list(values)}]},
               "searcher": dict({"type": searcher}, **(searcher_keys or {})),
               "scheduler": dict({"parallel_size": parallel}, **(scheduler or {}))}
        config = parse_search_config(raw, str(tmp_path))
        paths = TaskPaths(str(tmp_path), f"t{len(made)}")
        for d in (paths.code, paths.jobs_all, paths.jobs_tree):
            os.makedirs(d)
        store = Store(paths.db)
        store.set_meta(search_space="fake")
        launcher = ScriptedLauncher(paths.db)
        clock = FakeClock()
        criteria, time_limit = build_stop_criteria(config.scheduler.stop_criterion)
        parts = Components(build_searcher(config), criteria, time_limit,
                           build_filters(config.scheduler.filter_criterion), assessor, launcher)
        controller = Controller(paths, config, parts, store, TaskLock(paths.lock), out=io.StringIO(),
                                show_progress=False, clock=clock)
        h = SimpleNamespace(paths=paths, config=config, store=store, launcher=launcher, clock=clock, parts=parts,
                            controller=controller, launching=controller.launching, watching=controller.watching,
                            report=lambda job_id, step, **v: report(paths.job_dir(job_id), step, **v))
        made.append(h)
        return h

    yield make
    for h in made:
        h.store.close()
        h.launcher.reader.close()
