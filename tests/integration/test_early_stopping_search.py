"""A real search (search-run on real child processes) whose assessor ends clearly poor jobs early."""
import os
import subprocess
import sys
import textwrap
import time

import pytest
import yaml

BIN = os.path.dirname(sys.executable)

TRAIN = textwrap.dedent('''
    """Reports acc = quality x (1 - 0.5^epoch) each epoch; each job also starts a long-lived grandchild."""
    import argparse, os, subprocess, sys, time
    import gml
    p = argparse.ArgumentParser()
    p.add_argument("--quality", type=float)
    p.add_argument("--epochs", type=int, default=8)
    a = p.parse_args()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    with open(os.path.join(os.environ["GML_JOB_DIR"], "pids"), "w") as f:
        f.write(f"{os.getpid()} {child.pid}\\n")
    for epoch in range(1, a.epochs + 1):
        time.sleep(0.3)
        gml.report(step=epoch, acc=a.quality * (1 - 0.5 ** epoch))
    child.kill()
''')


class Project:
    def __init__(self, root):
        self.root = root
        self.env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
                        PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        (root / "train.py").write_text(TRAIN)
        self.cli("search-init")

    def cli(self, *args, timeout=120):
        proc = subprocess.run([os.path.join(BIN, args[0]), *args[1:]], cwd=self.root, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def search(self, task, qualities, assessor, parallel=2):
        config = {"task": {"template": "python train.py --quality {quality}",
                           "search_args": [{"type": "Categorical", "name": "quality", "data": qualities}]},
                  "searcher": {"type": "GridSearcher", "reward_attribute": "acc"},
                  "scheduler": {"parallel_size": parallel, "assessor": assessor}}
        (self.root / f"{task}.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        return self.cli("search-run", f"{task}.yaml", "-t", task)

    def jobs(self, task):
        out = self.root / f"{task}-jobs.yaml"
        self.cli("search-ctl", "show", "-t", task, "--scalar", "--out", str(out))
        return yaml.safe_load(out.read_text())["jobs"]

    def pids(self, task, job_id):
        path = self.root / ".search-run" / "tasks" / task / "jobs" / "all" / str(job_id) / "pids"
        return [int(p) for p in path.read_text().split()]


@pytest.fixture
def project(tmp_path):
    return Project(tmp_path)


def test_median_stop_ends_poor_jobs_early_and_the_decision_survives_a_resume(project, pid_alive):
    # Grid order: two good jobs run (and complete) first, then two clearly poor ones, then a good one.
    started = time.monotonic()
    run = project.search("median", [0.9, 0.8, 0.1, 0.05, 0.85],
                         {"type": "MedianStopAssessor", "start_step": 2})
    assert "FINISHED" in run.stderr
    jobs = {j["id"]: j for j in project.jobs("median")}
    assert [jobs[i]["status"] for i in range(5)] == ["SUCCEEDED", "SUCCEEDED", "EARLY_STOPPED", "EARLY_STOPPED",
                                                     "SUCCEEDED"]
    for i in (2, 3):
        stopped = jobs[i]
        steps = sorted(stopped["scalars"]["acc"])
        assert 2 <= stopped["stopped_step"] < 8 and stopped["stopped_step"] <= steps[-1]
        assert stopped["reward"] == pytest.approx(stopped["scalars"]["acc"][steps[-1]])   # its last reward
        assert not any(pid_alive(pid) for pid in project.pids("median", i))    # the job and its grandchild ended
    assert sorted(jobs[0]["scalars"]["acc"]) == list(range(1, 9))
    assert time.monotonic() - started < 60
    # a resume reruns nothing: the assessor's decisions stand
    again = project.cli("search-run", "median.yaml", "-t", "median", "--resume")
    assert "no configuration left" in again.stderr
    after = {j["id"]: j for j in project.jobs("median")}
    assert [(after[i]["status"], after[i].get("stopped_step")) for i in range(5)] == \
        [(jobs[i]["status"], jobs[i].get("stopped_step")) for i in range(5)]


USER_ASSESSOR = textwrap.dedent('''
    from gml.registry import ASSESSORS
    from gml.search.assessors import Assessor, Decision

    @ASSESSORS.register_module()
    class StopBelowHalfAtStep3(Assessor):
        """A user's own rule: stop a job whose acc at step 3 or later is below 0.5."""
        def assess_job(self, job_id, history):
            step, value = history[-1]
            return Decision.STOP if step >= 3 and value < 0.5 else Decision.CONTINUE
''')


def test_a_user_assessor_named_by_module_path_stops_jobs(project, pid_alive):
    (project.root / "my_assessors.py").write_text(USER_ASSESSOR)
    project.search("user", [0.9, 0.2], {"type": "my_assessors.StopBelowHalfAtStep3"})
    jobs = {j["id"]: j for j in project.jobs("user")}
    assert jobs[0]["status"] == "SUCCEEDED"
    assert jobs[1]["status"] == "EARLY_STOPPED" and jobs[1]["stopped_step"] >= 3
    assert not any(pid_alive(pid) for pid in project.pids("user", 1))
