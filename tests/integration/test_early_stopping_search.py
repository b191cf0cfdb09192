"""A real search (search-run on real child processes) whose assessor ends clearly poor jobs early."""
import textwrap
import time

import pytest

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


def search(project, task, qualities, assessor):
    """A grid search of train.py over ``qualities`` (2 jobs at once) with ``assessor``."""
    return project.search(task, "python train.py --quality {quality}", "quality", qualities, "acc",
                          scheduler={"assessor": assessor})


def pids(project, task, job_id):
    """The pids of the job and of its grandchild."""
    return [int(p) for p in (project.job_dir(task, job_id) / "pids").read_text().split()]


@pytest.fixture
def project(tmp_path, search_project):
    (tmp_path / "train.py").write_text(TRAIN)
    return search_project(tmp_path, timeout=120)


def test_median_stop_ends_poor_jobs_early_and_the_decision_survives_a_resume(project, pid_alive):
    # Grid order: two good jobs run (and complete) first, then two clearly poor ones, then a good one.
    started = time.monotonic()
    run = search(project, "median", [0.9, 0.8, 0.1, 0.05, 0.85], {"type": "MedianStopAssessor", "start_step": 2})
    assert "FINISHED" in run.stderr
    jobs = project.jobs("median")
    assert [jobs[i]["status"] for i in range(5)] == ["SUCCEEDED", "SUCCEEDED", "EARLY_STOPPED", "EARLY_STOPPED",
                                                     "SUCCEEDED"]
    for i in (2, 3):
        stopped = jobs[i]
        steps = sorted(stopped["scalars"]["acc"])
        assert 2 <= stopped["stopped_step"] < 8 and stopped["stopped_step"] <= steps[-1]
        assert stopped["reward"] == pytest.approx(stopped["scalars"]["acc"][steps[-1]])   # its last reward
        assert not any(pid_alive(pid) for pid in pids(project, "median", i))    # the job and its grandchild ended
    assert sorted(jobs[0]["scalars"]["acc"]) == list(range(1, 9))
    assert time.monotonic() - started < 60
    # a resume reruns nothing: the assessor's decisions stand
    again = project.cli("search-run", "median.yaml", "-t", "median", "--resume")
    assert "no configuration left" in again.stderr
    after = project.jobs("median")
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
    search(project, "user", [0.9, 0.2], {"type": "my_assessors.StopBelowHalfAtStep3"})
    jobs = project.jobs("user")
    assert jobs[0]["status"] == "SUCCEEDED"
    assert jobs[1]["status"] == "EARLY_STOPPED" and jobs[1]["stopped_step"] >= 3
    assert not any(pid_alive(pid) for pid in pids(project, "user", 1))
