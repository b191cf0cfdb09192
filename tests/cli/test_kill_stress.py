"""kill -9 of the controller at random instants, again and again, then --resume: every configuration still runs
exactly once and ends SUCCEEDED (the store is always ahead of the launcher)."""
import collections
import os
import random
import signal
import subprocess

import pytest


@pytest.mark.slow
def test_repeated_kill_9_at_random_instants_loses_and_repeats_nothing(project):
    record = project.root / "starts.txt"
    cfg = project.write_config(
        f"python train.py --lr {{lr}} --bs {{bs}} --epochs 3 --sleep 0.2 --record {record}",
        [{"type": "Categorical", "name": "lr", "data": [0.1, 0.2, 0.3, 0.4]},
         {"type": "Categorical", "name": "bs", "data": [1, 2, 3]}],
        scheduler={"parallel_size": 3})
    rng = random.Random(0)
    kills, finished = 0, False
    for _ in range(80):
        # a kill before the task's directory existed (a slow start) leaves nothing to resume: start it again
        resume = ["--resume"] if project.task_dir("stress").exists() else []
        args = ["search-run", cfg, "-t", "stress", "-q"] + resume
        ctl = project.start(*args)
        try:
            out, _ = ctl.communicate(timeout=rng.uniform(0.1, 0.6))
        except subprocess.TimeoutExpired:
            os.killpg(ctl.pid, signal.SIGKILL)    # the controller only: jobs run in sessions of their own
            ctl.wait()
            kills += 1
            continue
        assert ctl.returncode == 0, out
        finished = True
        break
    assert finished and kills >= 5, f"{kills} kills"
    starts = collections.Counter(tuple(line.split()[:2]) for line in record.read_text().splitlines())
    assert len(starts) == 12 and set(starts.values()) == {1}, starts
    jobs = project.jobs("stress")["jobs"]
    assert len(jobs) == 12 and {j["status"] for j in jobs} == {"SUCCEEDED"}
