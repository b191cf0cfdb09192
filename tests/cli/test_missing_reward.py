"""A reward attribute no job reports is said loudly after the first job, with the names it did report; `fail`
ends the search there."""
GRID = [{"type": "Categorical", "name": "lr", "data": [0.1, 0.2, 0.3]}]


def test_missing_reward_is_warned_once_with_the_reported_names(project):
    cfg = project.write_config("python train.py --lr {lr} --epochs 2", GRID,
                               searcher={"type": "GridSearcher", "reward_attribute": "accuracy"})
    proc = project.cli("search-run", cfg, "-t", "typo", check=0)
    warning = [line for line in proc.stderr.splitlines() if line.startswith("WARNING: ")]
    assert warning[0] == ("WARNING: job 0 ended (SUCCEEDED) without reporting the reward attribute 'accuracy' "
                          "(searcher.reward_attribute), and no job has reported it so far.")
    assert "WARNING: It reported: acc, loss." in warning
    assert "WARNING: Nearest name: 'acc' (searcher.reward_attribute: acc?)." in warning
    assert sum(line.startswith("WARNING: job ") for line in warning) == 1, "said once, not per job"
    jobs = project.jobs("typo")["jobs"]
    assert len(jobs) == 3 and all(j["status"] == "SUCCEEDED" and j["reward"] is None for j in jobs)
    shown = project.cli("search-ctl", "show", "-t", "typo", check=0).stdout
    assert "WARNING: job 0 ended (SUCCEEDED) without reporting the reward attribute 'accuracy'" in shown
    assert "WARNING: Nearest name: 'acc'" in shown


def test_a_reported_reward_gives_no_warning(project):
    cfg = project.write_config("python train.py --lr {lr} --epochs 1", GRID,
                               searcher={"type": "GridSearcher", "reward_attribute": "acc"})
    proc = project.cli("search-run", cfg, "-t", "fine", check=0)
    assert "WARNING" not in proc.stderr
    assert "WARNING" not in project.cli("search-ctl", "show", "-t", "fine", check=0).stdout


def test_fail_fast_ends_the_search_after_the_first_job(project):
    cfg = project.write_config("python train.py --lr {lr} --epochs 1 --sleep 0.5", GRID,
                               searcher={"type": "GridSearcher", "reward_attribute": "val_acc",
                                         "on_missing_reward": "fail"},
                               scalars=["acc"])
    proc = project.cli("search-run", cfg, "-t", "strict", check=1)
    assert "WARNING: It reported: acc." in proc.stderr
    assert "WARNING: Only the names under `scalars:` are collected (val_acc, acc)" in proc.stderr
    assert ("[strict] FAILED: no job reports the reward attribute 'val_acc' (searcher.on_missing_reward: fail)"
            in proc.stderr)
    jobs = project.jobs("strict")["jobs"]
    assert [j["status"] for j in jobs] == ["SUCCEEDED"], "no job started after the first one ended"
