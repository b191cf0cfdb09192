"""What the pages draw, read from a store written through Store's API (edge cases a real search rarely makes:
NaN/infinite values, failed jobs, a cost scalar named like a parameter count), and the read-only contract."""
import hashlib
import json
import os
import subprocess
import sys

import pytest

from gml.dashboard.importance import parameter_importance
from gml.dashboard.job_facts import job_facts
from gml.dashboard.task_data import list_tasks, pareto_front, task_data, task_importance
from gml.search.task.jobs import JobStatus
from gml.search.task.store import Store
from gml.search.task.workspace import TaskPaths, init_workspace


@pytest.fixture
def workspace(tmp_path):
    init_workspace(str(tmp_path))
    paths = TaskPaths(str(tmp_path), "t")
    os.makedirs(paths.jobs_all)
    store = Store(paths.db)
    store.set_meta(task="t", created_at=100.0, updated_at=200.0, reward_attribute="top1", optimize_mode="maximize",
                   status="FINISHED", reason="max_tries=4 reached")
    rows = [
        ({"w": 8, "act": "relu"}, JobStatus.SUCCEEDED, 0.5, None, None, [("top1", 1, 0.3), ("top1", 2, 0.5),
                                                                        ("n_params", 2, 1000.0)]),
        ({"w": 16, "act": "gelu"}, JobStatus.SUCCEEDED, 0.7, None, None, [("top1", 1, 0.4), ("top1", 2, 0.7),
                                                                         ("n_params", 2, 4000.0)]),
        ({"w": 32, "act": "relu"}, JobStatus.EARLY_STOPPED, 0.2, 1, None, [("top1", 1, 0.2), ("top1", 2, float("inf")),
                                                                          ("n_params", 1, 16000.0)]),
        ({"w": 64, "act": "gelu"}, JobStatus.ERROR, None, None, "exit code 1\n--- last lines ---\nboom", []),
    ]
    for i, (point, status, reward, stopped, error, scalars) in enumerate(rows):
        store.add_job(point, dict(point), status=status, attempt=1, start_time=110.0 + i, end_time=120.0 + i,
                      reward=reward, stopped_step=stopped, error=error)
        if status == JobStatus.EARLY_STOPPED:
            store.update_job(i, submitted_at=105.0, end_reason="stopped by the assessor")
        store.add_scalars(i, [(n, s, v, 0.0) for n, s, v in scalars])
    store.close()
    return paths


def test_task_data_holds_what_the_plots_need(workspace):
    data = task_data(workspace.root, "t")
    json.dumps(data, allow_nan=False)                       # what the pages get is strict JSON
    assert (data["status"], data["reward_name"], data["done"], data["total"]) == ("FINISHED", "top1", 4, 4)
    assert data["best"] == {"id": 1, "reward": 0.7}
    assert data["params"] == [{"name": "w", "kind": "number", "values": None},
                              {"name": "act", "kind": "category", "values": ["gelu", "relu"]}]
    assert data["curves"] == {"0": [[1, 0.3], [2, 0.5]], "1": [[1, 0.4], [2, 0.7]], "2": [[1, 0.2]]}   # inf left out
    jobs = {j["id"]: j for j in data["jobs"]}
    assert jobs[2]["stop_reason"] == "stopped by the assessor" and jobs[2]["stopped_step"] == 1
    assert jobs[3]["stop_reason"] == "exit code 1" and jobs[3]["reward"] is None
    assert jobs[0]["stop_reason"] is None and jobs[0]["duration"] == pytest.approx(10.0)
    assert data["cost"]["name"] == "n_params"
    assert data["cost"]["front"] == [0, 1]                  # job 2 costs more and scores less than both


def test_pareto_front_for_both_directions():
    points = [(0, 1.0, 0.5), (1, 2.0, 0.4), (2, 2.0, 0.8), (3, 3.0, 0.8), (4, 0.5, 0.1)]
    assert pareto_front(points, maximize=True) == [4, 0, 2]
    assert pareto_front(points, maximize=False) == [4]


def test_job_facts_reads_the_stop_reason_and_submission_time(workspace):
    store = Store(workspace.db, readonly=True)
    stopped, failed, fine = store.job(2), store.job(3), store.job(0)
    store.close()
    assert job_facts(stopped).stop_reason == "stopped by the assessor" and job_facts(stopped).submitted_at == 105.0
    assert job_facts(failed).stop_reason == "exit code 1"
    assert job_facts(fine).stop_reason is None and job_facts(fine).submitted_at == 110.0


def test_importance_needs_two_scored_jobs_and_says_so(workspace):
    result = task_importance(workspace.root, "t")
    assert result["trials"] == 3 and set(result["values"]) == {"w", "act"}      # the failed job does not count
    assert sum(result["values"].values()) == pytest.approx(1.0)
    store = Store(workspace.db, readonly=True)
    jobs = store.jobs()
    store.close()
    params = task_data(workspace.root, "t")["params"]
    alone = parameter_importance(jobs[:1] + jobs[3:], params, "maximize")
    assert alone["values"] == {} and "two different values" in alone["note"]


def test_reading_never_changes_the_store(workspace):
    before = hashlib.sha256(open(workspace.db, "rb").read()).hexdigest()
    task_data(workspace.root, "t")
    task_importance(workspace.root, "t")
    assert list_tasks(workspace.root)[0]["best"] == {"id": 1, "reward": 0.7}
    assert hashlib.sha256(open(workspace.db, "rb").read()).hexdigest() == before


def test_the_controller_side_never_imports_the_dashboard():
    code = ("import sys, gml.search, gml.search.controller, gml.cli.run, gml.cli.ctl; "
            "print(sorted(m for m in sys.modules if m.startswith(('gml.dashboard', 'plotly', 'playwright'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_a_running_task_without_its_controller_shows_interrupted(workspace):
    from gml.dashboard.task_data import task_entry, with_live_status
    from gml.search.task.lock import TaskLock
    store = Store(workspace.db)
    store.set_meta(status="RUNNING")
    store.close()
    lock = TaskLock(workspace.lock)
    lock.acquire("t")                                  # a controller holds the task
    try:
        entry = task_entry(workspace.root, "t")
        assert entry["status"] == "RUNNING"
    finally:
        lock.release()                                 # it died: the cached entry must not keep saying RUNNING
    assert with_live_status(workspace.root, entry)["status"] == "INTERRUPTED"
    assert task_entry(workspace.root, "t")["status"] == "INTERRUPTED"
