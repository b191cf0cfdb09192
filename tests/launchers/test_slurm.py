"""SlurmLauncher on the real single-node Slurm cluster that tools/ci/start_slurm.sh starts."""
import os
import subprocess
import time

import pytest
import yaml

from gml.errors import GmlConfigError
from gml.launchers import JobSpec, JobState, LaunchError
from gml.launchers import slurm_cli
from gml.launchers.slurm import SlurmLauncher
from gml.registry import LAUNCHERS
from gml.testing.launchers import wait_done

import launcher_helpers as h

pytestmark = [pytest.mark.slurm]


def spec(tmp_path, job_id, command, **kw):
    job_dir = tmp_path / f"job{job_id}"
    job_dir.mkdir()
    return JobSpec(job_id, "unit", command, str(tmp_path), str(job_dir), str(job_dir / "log"),
                   {"GML_JOB_DIR": str(job_dir), "GML_JOB_ID": str(job_id)}, **kw)


def test_config_refuses_unknown_keys_and_bad_values():
    with pytest.raises(GmlConfigError) as err:
        LAUNCHERS.build({"type": "slurm", "partiton": "x"}, "scheduler.launcher")
    assert "scheduler.launcher.partiton" in str(err.value) and "partition" in str(err.value)
    assert "gpus_per_job" in str(err.value) and "extra_args" in str(err.value)
    with pytest.raises(GmlConfigError, match=r"^scheduler\.launcher\.gpus_per_job: expected an integer >= 0, got -1$"):
        LAUNCHERS.build({"type": "slurm", "gpus_per_job": -1}, "scheduler.launcher")
    with pytest.raises(GmlConfigError, match=r"^scheduler\.launcher\.extra_args: expected a list of sbatch options"):
        LAUNCHERS.build({"type": "slurm", "extra_args": "--qos=low"}, "scheduler.launcher")
    with pytest.raises(GmlConfigError, match=r"^scheduler\.launcher\.squeue_interval: expected seconds > 0, got 0$"):
        LAUNCHERS.build({"type": "slurm", "squeue_interval": 0}, "scheduler.launcher")
    launcher = LAUNCHERS.build({"type": "SlurmLauncher", "partition": "gpu", "gpus_per_job": 2, "cpus_per_job": 8,
                                "mem": "32G", "time": "2:00:00", "extra_args": ["--qos=low"]}, "scheduler.launcher")
    opts = launcher.sbatch_options(JobSpec(3, "t", "true", "/w", "/w/j", None, {}, time_limit=90))
    assert {"--partition=gpu", "--gres=gpu:2", "--cpus-per-task=8", "--mem=32G", "--time=2", "--qos=low",
            "--job-name=gml-t-3", "--output=/dev/null"} <= set(opts)
    opts = launcher.sbatch_options(JobSpec(3, "t", "true", "/w", "/w/j", "/w/j/log", {}))
    assert "--time=2:00:00" in opts and "--output=/w/j/log" in opts


def test_jobs_exit_codes_env_and_srun_template(tmp_path, slurm_cluster):
    launcher = SlurmLauncher(squeue_interval=0.5)
    ok = spec(tmp_path, 0, "echo \"dir=$GML_JOB_DIR\"; srun bash -c 'echo step=$SLURM_STEP_ID'")
    bad = spec(tmp_path, 1, "echo failing; exit 3")
    ids = [launcher.submit(ok), launcher.submit(bad)]
    assert all(i.isdigit() for i in ids)
    states = wait_done(launcher, ids, 60)
    assert states[ids[0]].state == JobState.SUCCEEDED, open(ok.log_path).read()
    assert states[ids[1]].state == JobState.FAILED and states[ids[1]].exit_code == 3
    assert "exited with code 3" in states[ids[1]].message
    log = open(ok.log_path).read()
    assert f"dir={ok.job_dir}" in log and "step=0" in log   # the srun in the template became a job step
    # ONE squeue per refresh for all jobs; polls in between only read the exit-code files
    assert len(launcher.stats["squeue"]) <= len(launcher.stats["poll"])
    # a fresh launcher (a restarted controller) learns the end from Slurm itself, even without exit files
    h.wait_for(lambda: all(slurm_cli.phase(e.state) == slurm_cli.Phase.DONE
                           for e in slurm_cli.squeue(ids).values()), 30, "Slurm to finish the jobs")
    for s in (ok, bad):
        os.remove(os.path.join(s.job_dir, "exit_code"))
    fresh = SlurmLauncher()
    states = fresh.poll(ids)
    assert states[ids[0]].state == JobState.SUCCEEDED and states[ids[1]].state == JobState.FAILED
    acct = slurm_cli.sacct(ids)
    if acct is not None:   # the CI cluster keeps accounting: sacct agrees
        assert acct[ids[0]].state == "COMPLETED" and acct[ids[1]].exit_code == 3


def test_refused_submissions_carry_slurms_message(tmp_path, slurm_cluster):
    with pytest.raises(LaunchError, match="(?i)invalid partition"):
        SlurmLauncher(partition="no-such-partition").submit(spec(tmp_path, 0, "true"))
    with pytest.raises(LaunchError, match="(?i)Slurm refused the job: .*(gres|node configuration)"):
        SlurmLauncher(gpus_per_job=1).submit(spec(tmp_path, 1, "true"))
    with pytest.raises(LaunchError, match="(?i)Slurm refused the job: .*(node configuration|processors)"):
        SlurmLauncher(cpus_per_job=10_000).submit(spec(tmp_path, 2, "true"))


def test_requeued_job_is_followed(tmp_path, slurm_cluster):
    launcher = SlurmLauncher(squeue_interval=0.3)
    s = spec(tmp_path, 0, "echo run-$SLURM_RESTART_COUNT; sleep 4")
    eid = launcher.submit(s)
    h.wait_for(lambda: "run-" in open(s.log_path).read() if os.path.exists(s.log_path) else False, 30,
               "the first run")
    subprocess.run(["scontrol", "requeue", eid], check=True, capture_output=True)
    h.wait_for(lambda: launcher.poll([eid])[eid].state == JobState.QUEUED, 30, "the requeued job to pend")
    # Slurm holds a requeued job back (BeginTime ~2 min ahead); let it start now. (Within ~1 s of the requeue
    # Slurm itself kills the restart: "non-startable batch job: Job credential revoked".)
    time.sleep(2)
    subprocess.run(["scontrol", "update", f"jobid={eid}", "starttime=now"], check=True, capture_output=True)
    seen = set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        state = launcher.poll([eid])[eid]
        seen.add(state.state)
        if state.state.is_done:
            break
        time.sleep(0.3)
    assert state.state == JobState.SUCCEEDED, (state, open(s.log_path).read())
    log = open(s.log_path).read()
    assert "run-" in log and "run-1" in log   # it ran again after the requeue, same Slurm job id
    assert JobState.LOST not in seen


def test_search_parallel_refused_and_time_limit(tmp_path, slurm_cluster):
    """A full search through Slurm (parallel 2): reports, rewards, one refused job and one over its limit."""
    root = h.project(tmp_path, {"type": "slurm", "cpus_per_job": 1, "squeue_interval": 0.5},
                     "pwd > here; if [ {x} = 9 ]; then sleep 120; fi; " + h.REPORT, [0.25, 0.5, 0.75, 9], per_job="5s")
    out = h.run(root, "t1", timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    jobs = {j.params["x"]: j for j in h.jobs(root, "t1")}
    for x in (0.25, 0.5, 0.75):
        assert jobs[x].status.value == "SUCCEEDED" and jobs[x].reward == x, jobs[x]
        h.assert_own_working_directory(root, "t1", jobs[x])
    slow = jobs[9]
    assert slow.status.value == "TIMEOUT"
    script = open(os.path.join(h.task_dir(root, "t1"), "jobs", "all", str(slow.id), "job.sh")).read()
    assert "--time=1" in script   # time_limits_per_job reached Slurm too (whole minutes)
    h.wait_for(lambda: not slurm_cli.squeue([slow.external_id]).get(slow.external_id)
               or slurm_cli.phase(slurm_cli.squeue([slow.external_id])[slow.external_id].state)
               == slurm_cli.Phase.DONE, 30, "scancel of the job over its limit")

    cfg = yaml.safe_load(open(os.path.join(root, "cfg.yaml")))
    cfg["scheduler"]["launcher"]["partition"] = "nowhere"
    (tmp_path / "proj" / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    out = h.run(root, "t2", timeout=60)
    refused = h.jobs(root, "t2")
    assert refused and all(j.status.value == "ERROR" for j in refused), out.stdout + out.stderr
    assert "invalid partition" in refused[0].error.lower()


def test_stop_kill9_and_resume_adopts_running_jobs(tmp_path, slurm_cluster):
    root = h.project(tmp_path, {"type": "slurm", "squeue_interval": 0.5}, "sleep 6; " + h.REPORT,
                     [0.1, 0.2, 0.3], parallel=2)
    proc = h.start(root, "t")
    h.wait_for(h.running(root, "t", 2), 60, "two running Slurm jobs")
    h.kill9(proc)
    before = {j.id: j for j in h.jobs(root, "t") if j.status.value == "RUNNING"}
    listed = slurm_cli.squeue([j.external_id for j in before.values()])
    assert all(slurm_cli.phase(listed[j.external_id].state) != slurm_cli.Phase.DONE for j in before.values())

    out = h.run(root, "t", "--resume", timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    after = {j.id: j for j in h.jobs(root, "t")}
    for job_id, job in before.items():   # adopted: same Slurm job, not run again
        assert after[job_id].external_id == job.external_id and after[job_id].attempt == job.attempt
        assert after[job_id].status.value == "SUCCEEDED"
    assert sorted(j.reward for j in after.values()) == [0.1, 0.2, 0.3]

    # search-ctl stop: running jobs become KILLED and leave the Slurm queue
    root2 = h.project(tmp_path / "b", {"type": "slurm", "squeue_interval": 0.5}, "sleep 100; " + h.REPORT,
                      [1, 2, 3]) if (tmp_path / "b").mkdir() is None else None
    proc = h.start(root2, "s")
    h.wait_for(h.running(root2, "s", 2), 60, "two running Slurm jobs")
    assert h.ctl(root2, "stop", "-t", "s").returncode == 0
    h.finish(proc, 60)
    stopped = [j for j in h.jobs(root2, "s") if j.external_id]
    assert stopped and all(j.status.value == "KILLED" for j in stopped)
    h.wait_for(lambda: all(slurm_cli.phase(e.state) == slurm_cli.Phase.DONE
                           for e in slurm_cli.squeue([j.external_id for j in stopped]).values()), 30,
               "scancel of the stopped jobs")


def test_submitit_executor_runs_callables(tmp_path, slurm_cluster):
    """The Python-callable path: gml.launchers.slurm.executor is a configured submitit executor."""
    pytest.importorskip("submitit")
    from gml.launchers.slurm import executor
    ex = executor(str(tmp_path), cpus_per_job=1, time="5", extra_args=["--requeue"])
    assert ex.parameters["cpus_per_task"] == 1 and ex.parameters["additional_parameters"] == {"requeue": True}
    import math   # a callable the job can unpickle without this test module on its path
    jobs = ex.map_array(math.factorial, [3, 4])
    assert [job.result() for job in jobs] == [6, 24]
