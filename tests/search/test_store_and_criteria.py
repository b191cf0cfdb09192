"""The store's persistence contract, scalar ingest, durations and the built-in stop/filter criteria."""
import json
import os
import random

import pytest

from gml.errors import GmlConfigError
from gml.search.criteria import (Candidate, DropParams, MaxReward, MaxTries, SearchView, Stop, TimeLimits,
                                 build_stop_criteria)
from gml.search.config.durations import format_duration, parse_duration
from gml.search.ingest.report_files import read_new_scalars, reward_of
from gml.search.task.jobs import JobStatus
from gml.search.space.parse import parse_search_args
from gml.search.task.store import RequestAction, Store


def test_store_round_trip_and_unique_points(tmp_path):
    store = Store(str(tmp_path / "s.db"))
    job = store.add_job({"lr": 0.1, "n": {"a": 1}}, {"lr": 0.1, "a": 1})
    assert job.id == 0 and job.status == JobStatus.PENDING
    assert store.add_job({"lr": 0.2}, {"lr": 0.2}).id == 1
    with pytest.raises(ValueError, match="already in the store"):
        store.add_job({"n": {"a": 1}, "lr": 0.1}, {})       # same point, other key order
    store.update_job(0, status=JobStatus.RUNNING, external_id="123:4:", submitted_at=10.0)
    store.record_end_intent(0, JobStatus.TIMEOUT, "over time_limits_per_job (2s)")
    store.add_scalars(0, [("acc", 0, 0.5, 1.0), ("acc", 1, 0.7, 2.0), ("acc", 1, 0.8, 3.0)], scalar_offset=42)
    store.set_meta(status="RUNNING", elapsed=3.5)
    store.close()
    reopened = Store(str(tmp_path / "s.db"))                  # what a resumed controller sees
    job = reopened.job(0)
    assert (job.status, job.external_id, job.submitted_at, job.start_time, job.scalar_offset) == \
        (JobStatus.RUNNING, "123:4:", 10.0, None, 42)
    assert (job.end_intent, job.end_reason) == (JobStatus.TIMEOUT, "over time_limits_per_job (2s)")
    assert reopened.scalars(0, "acc") == [("acc", 0, 0.5), ("acc", 1, 0.8)]
    assert reopened.get_meta("elapsed") == 3.5 and reopened.counts() == {"RUNNING": 1, "PENDING": 1}
    assert [j.id for j in reopened.jobs([JobStatus.PENDING])] == [1]
    request = reopened.add_request("stop")
    assert reopened.open_requests() == [(request, RequestAction.STOP, None)]
    queued = reopened.add_request(RequestAction.ENQUEUE, {"lr": 0.5})
    assert reopened.open_requests()[1] == (queued, RequestAction.ENQUEUE, {"lr": 0.5})
    reopened.close_request(queued)
    reopened.close_request(request)
    assert reopened.open_requests() == []


def test_a_reader_sees_committed_state_while_the_writer_holds_the_db(tmp_path):
    writer = Store(str(tmp_path / "s.db"))
    writer.add_job({"a": 1}, {"a": 1})
    reader = Store(str(tmp_path / "s.db"))
    assert [j.id for j in reader.jobs()] == [0]
    writer.update_job(0, status=JobStatus.RUNNING, external_id="1::")
    writer.update_job(0, status=JobStatus.SUCCEEDED, reward=0.9)
    assert reader.job(0).reward == 0.9


def test_ingest_reads_complete_lines_once(tmp_path):
    path = tmp_path / "scalars.jsonl"
    lines = [json.dumps({"step": 0, "time": 1.0, "scalars": {"acc": 0.5, "loss": 2}}),
             json.dumps({"step": 1, "time": 2.0, "scalars": {"acc": "nan"}}),
             "not json",
             json.dumps({"step": 2, "time": 3.0, "scalars": {"acc": 0.9}})]
    path.write_text("\n".join(lines[:2]) + "\n" + lines[2] + "\n" + lines[3][:10])   # last line half-written
    rows, offset = read_new_scalars(str(tmp_path), 0)
    assert [(n, s) for n, s, _, _ in rows] == [("acc", 0), ("loss", 0), ("acc", 1)]
    assert rows[2][2] != rows[2][2]          # NaN
    rows2, offset2 = read_new_scalars(str(tmp_path), offset)
    assert rows2 == [] and offset2 == offset
    with open(path, "a") as f:
        f.write(lines[3][10:] + "\n")
    rows3, _ = read_new_scalars(str(tmp_path), offset, names=["acc"])
    assert rows3 == [("acc", 2, 0.9, 3.0)]


def test_reward_is_last_or_best_value():
    curve = [(0, 0.5), (2, 0.7), (1, 0.9), (3, float("nan"))]
    assert reward_of(curve, "last", "maximize") == 0.7
    assert reward_of(curve, "best", "maximize") == 0.9
    assert reward_of(curve, "best", "minimize") == 0.5
    assert reward_of([], "last", "maximize") is None


@pytest.mark.parametrize("text,seconds", [(2, 7200), (0.5, 1800), ("30m", 1800), ("1h30m", 5400), ("45s", 45),
                                          ("2d", 172800), ("1.5h", 5400), ("inf", None), (None, None)])
def test_durations(text, seconds):
    assert parse_duration(text, "x") == seconds


@pytest.mark.parametrize("bad", ["soon", "3 weeks", -1, 0, True, [1]])
def test_bad_durations_name_the_key(bad):
    with pytest.raises(GmlConfigError, match=r"^scheduler\.stop_criterion\.time_limits: "):
        parse_duration(bad, "scheduler.stop_criterion.time_limits")


def test_format_duration():
    assert format_duration(3725) == "1:02:05" and format_duration(None) == "-"


def view(**kw):
    base = dict(elapsed=0.0, launched=0, finished=0, running=0, best_reward=None, optimize_mode="maximize")
    base.update(kw)
    return SearchView(**base)


def test_builtin_stop_criteria():
    criteria, per_job = build_stop_criteria({"max_tries": 3, "time_limits": "1m", "max_reward": 0.9,
                                             "time_limits_per_job": 0.5})
    assert per_job == 1800
    tries, limit, reward = criteria
    assert isinstance(tries, MaxTries) and tries.before_iter(view(launched=2)) is None
    assert tries.before_iter(view(launched=3)) == Stop.DRAIN
    assert isinstance(limit, TimeLimits) and limit.before_iter(view(elapsed=61)) == Stop.END
    assert isinstance(reward, MaxReward) and reward.after_iter(view(best_reward=0.89)) is None
    assert reward.after_iter(view(best_reward=0.9)) == Stop.END
    assert MaxReward(0.1).after_iter(view(best_reward=0.05, optimize_mode="minimize")) == Stop.END
    assert build_stop_criteria({"max_reward": "inf", "max_tries": None})[0][0].after_iter(view(best_reward=1e9)) is None


def test_custom_stop_criteria_from_the_registry():
    from gml.registry import STOP_CRITERIONS
    criteria, _ = build_stop_criteria([{"type": "MaxTries", "max_tries": 2}])
    assert isinstance(criteria[0], MaxTries)
    with pytest.raises(GmlConfigError, match=r"scheduler\.stop_criterion\.custom\[0\]\.type: unknown stop criterion"):
        build_stop_criteria({"custom": [{"type": "Nope"}]})
    with pytest.raises(GmlConfigError,
                       match=r"^scheduler\.stop_criterion\.max_tries: expected an integer >= 1, got 0$"):
        build_stop_criteria({"max_tries": 0})
    with pytest.raises(GmlConfigError,
                       match=r"^scheduler\.stop_criterion\[1\]\.max_reward: expected a number, got 'high'$"):
        build_stop_criteria([{"type": "MaxTries", "max_tries": 2}, {"type": "MaxReward", "max_reward": "high"}])
    with pytest.raises(GmlConfigError, match=r"^scheduler\.stop_criterion\.time_limits: expected a duration"):
        build_stop_criteria({"time_limits": "soon"})
    assert "MaxReward" in STOP_CRITERIONS


def test_drop_params_filter():
    f = DropParams([{"bs": 1024, "model": "large"}])
    assert f.filter(Candidate(0, {}, {"bs": 1024, "model": "small"}))
    assert not f.filter(Candidate(0, {}, {"bs": 1024, "model": "large", "lr": 1}))


def test_log_sampling_is_log_uniform_and_ints_respect_step():
    space = parse_search_args([{"type": "Real", "name": "lr", "data": [1e-4, 1.0], "log": True},
                               {"type": "Int", "name": "w", "data": [8, 64], "step": 8, "log": True}])
    rng = random.Random(0)
    points = [space.sample(rng) for _ in range(4000)]
    below = sum(p["lr"] < 1e-2 for p in points) / len(points)
    assert 0.45 < below < 0.55                     # half of the log range lies below 1e-2
    assert all(space.contains(p) for p in points)
    assert {p["w"] for p in points} == set(range(8, 65, 8))
