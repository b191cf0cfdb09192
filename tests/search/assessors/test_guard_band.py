"""GuardBandAssessor on hand-made curves whose bar is known, and on a bank of real learning curves."""
import importlib.util
import json
import os
import random

import pytest

from gml.errors import GmlConfigError
from gml.registry import ASSESSORS
from gml.search.assessors import Decision, GuardBandAssessor, MedianStopAssessor, TopKGuardAssessor

STOP, GO = Decision.STOP, Decision.CONTINUE
NAN = float("nan")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def band(**kwargs):
    """A GuardBandAssessor with every refinement off unless asked for."""
    defaults = dict(top_k=2, start_step=1, guard_fraction=1.0, lag=0.0, tolerance=0.0, min_completed=2,
                    with_median=False)
    return GuardBandAssessor(**{**defaults, **kwargs})


def test_with_every_refinement_off_it_decides_as_top_k_guard():
    curves = {0: [(1, 0.2), (2, 0.5), (3, 0.9)], 1: [(1, 0.6), (2, 0.7), (3, 0.8)], 2: [(1, 0.1), (2, 0.2), (3, 0.3)]}
    plain, guard = band(), TopKGuardAssessor(top_k=2, start_step=1, min_completed=2)
    for job_id, curve in curves.items():
        plain.replay(job_id, curve, True)
        guard.replay(job_id, curve, True)
    for step in (1, 2, 3):
        assert plain.bar_at(step) == guard.bar_at(step)
    assert plain.bar_at(2) == 0.5
    assert plain.assess_job(7, [(1, 0.3), (2, 0.4)]) == STOP
    assert plain.assess_job(8, [(1, 0.6), (2, 0.45)]) == GO          # its best so far counts
    assert plain.assess_job(9, [(1, NAN), (2, NAN)]) == STOP


def test_no_bar_before_min_completed_and_no_stop_before_start_step():
    a = band(start_step=3)
    a.replay(0, [(1, 0.9), (2, 0.9), (3, 0.9)], True)
    assert a.bar_at(2) is None and a.assess_job(1, [(1, 0.0), (2, 0.0), (3, 0.0)]) == GO
    a.replay(2, [(1, 0.1)], False)                                    # a stopped job is no reference
    assert a.bar_at(2) is None
    a.replay(3, [(1, 0.8), (2, 0.8), (3, 0.8)], True)
    assert a.assess_job(1, [(1, 0.0), (2, 0.0)]) == GO                # before start_step
    assert a.assess_job(1, [(1, 0.0), (2, 0.0), (3, 0.0)]) == STOP


def test_guard_fraction_keeps_poor_early_completions_out_of_the_guard():
    poor_first = [(1, 0.1), (2, 0.2), (3, 0.3)]
    good = [[(1, 0.7), (2, 0.8), (3, 0.9)], [(1, 0.6), (2, 0.75), (3, 0.85)], [(1, 0.65), (2, 0.7), (3, 0.8)]]
    whole, early = band(top_k=10, min_completed=1), band(top_k=10, min_completed=1, guard_fraction=0.5)
    assert GuardBandAssessor().guard_size(3) == 3                   # never fewer than min_completed
    for a in (whole, early):
        a.replay(0, poor_first, True)
        for i, curve in enumerate(good, 1):
            a.replay(i, curve, True)
    assert early.guard_size(4) == 2 and early.guard_size(40) == 10 and whole.guard_size(4) == 4
    assert whole.bar_at(2) == 0.2                                     # every completed job guards
    assert early.bar_at(2) == 0.75                                    # only the best ceil(0.5 x 4) = 2
    assert whole.assess_job(9, [(1, 0.5), (2, 0.5)]) == GO
    assert early.assess_job(9, [(1, 0.5), (2, 0.5)]) == STOP


def test_lag_compares_with_the_guard_a_fraction_of_a_step_earlier():
    a = band(top_k=1, min_completed=1, lag=0.5)
    a.replay(0, [(1, 0.4), (2, 0.6), (3, 0.8), (4, 0.8)], True)
    assert a.bar_at(3) == pytest.approx(0.7)                          # halfway between steps 2 and 3
    assert a.bar_at(1) == pytest.approx(0.4)                          # before step 1: the worst first value
    a.replay(1, [(1, 0.2), (2, 0.3), (3, 0.4), (4, 0.5)], True)      # worse first value, outside the top 1
    assert a.bar_at(1) == pytest.approx(0.3)                          # halfway between 0.2 (step 0) and 0.4
    assert a.assess_job(5, [(1, 0.1), (2, 0.5), (3, 0.69)]) == STOP
    assert a.assess_job(6, [(1, 0.1), (2, 0.5), (3, 0.71)]) == GO


def test_tolerance_scales_with_what_the_guard_still_gained_after_the_step():
    a = band(top_k=2, tolerance=0.5)
    a.replay(0, [(1, 0.2), (2, 0.6), (3, 0.9), (4, 0.9)], True)      # gains after step 1: 0.7, after 3: 0
    a.replay(1, [(1, 0.5), (2, 0.7), (3, 0.8), (4, 0.85)], True)     # gains after step 1: 0.35, after 3: 0.05
    assert a.bar_at(1) == pytest.approx(0.2 - 0.5 * (0.7 + 0.35) / 2)
    assert a.bar_at(3) == pytest.approx(0.8 - 0.5 * 0.025)
    assert a.bar_at(4) == pytest.approx(0.85)                         # nothing left to gain: the guard itself


def test_with_median_a_job_must_be_behind_the_median_running_average_too():
    curves = [[(1, 0.2), (2, 0.4), (3, 0.9)], [(1, 0.8), (2, 0.9), (3, 0.95)], [(1, 0.3), (2, 0.35), (3, 0.4)]]
    both, alone, median = band(with_median=True), band(), MedianStopAssessor()
    for i, curve in enumerate(curves):
        for a in (both, alone, median):
            a.replay(i, curve, True)
    assert alone.bar_at(2) == 0.4                                     # the weaker of the 2 best at step 2
    assert median.median_at(2) == pytest.approx(0.325)                # running averages 0.3, 0.85, 0.325
    assert both.bar_at(2) == pytest.approx(0.325)                     # the more lenient of the two
    assert alone.assess_job(9, [(1, 0.1), (2, 0.35)]) == STOP
    assert both.assess_job(9, [(1, 0.1), (2, 0.35)]) == GO
    assert both.assess_job(10, [(1, 0.1), (2, 0.25)]) == STOP
    assert both.bar_at(4) is None                                     # no completed job reached step 4: no median


def test_minimize_mirrors_maximize():
    up = band(top_k=2, lag=0.25, tolerance=0.5, with_median=True)
    down = band(top_k=2, lag=0.25, tolerance=0.5, with_median=True, optimize_mode="minimize")
    curves = [[(1, 0.2), (2, 0.6), (3, 0.9)], [(1, 0.5), (2, 0.7), (3, 0.8)], [(1, 0.1), (2, 0.15), (3, 0.2)]]
    for i, curve in enumerate(curves):
        up.replay(i, curve, True)
        down.replay(i, [(s, -v) for s, v in curve], True)
    for step in (1, 2, 3):
        assert down.bar_at(step) == pytest.approx(-up.bar_at(step))
    probe = [(1, 0.15), (2, 0.4)]
    assert down.assess_job(9, [(s, -v) for s, v in probe]) == up.assess_job(9, probe)


def test_built_from_the_registry_and_bad_config_names_the_key():
    a = ASSESSORS.build({"type": "GuardBandAssessor", "lag": 0.5}, "scheduler.assessor", optimize_mode="minimize")
    assert isinstance(a, GuardBandAssessor) and a.lag == 0.5 and a.optimize_mode == "minimize"
    for bad, key in (({"top_k": 0}, "top_k"), ({"guard_fraction": 0}, "guard_fraction"), ({"lag": -1}, "lag"),
                     ({"tolerance": "x"}, "tolerance"), ({"min_completed": 1.5}, "min_completed"),
                     ({"with_median": "yes"}, "with_median"), ({"margin": 0.1}, "margin")):
        with pytest.raises(GmlConfigError, match=key):
            ASSESSORS.build({"type": "GuardBandAssessor", **bad}, "scheduler.assessor", optimize_mode="maximize")


def test_job_end_uses_the_curve_last_assessed_and_replay_rebuilds_the_same_bar():
    live, rebuilt = GuardBandAssessor(min_completed=1), GuardBandAssessor(min_completed=1)
    curve = [(1, 0.3), (2, 0.6), (3, 0.7)]
    for i in range(1, len(curve) + 1):
        live.assess_job(0, curve[:i])
    live.job_end(0, True)
    rebuilt.replay(0, curve, True)
    assert [live.bar_at(s) for s in (1, 2, 3)] == [rebuilt.bar_at(s) for s in (1, 2, 3)]


def test_on_real_curves_it_keeps_the_ten_best_where_top_k_guard_loses_two_and_saves_more_than_median_stop():
    """A replay of the bank of 80 real Lightning curves in one job order (benchmarks/early_stopping.py, order 2);
    measured there: GuardBand 43.9% of the epochs saved, all ten best jobs run to the end; TopKGuard 50.4% with
    8 of them; MedianStop(start_step=3) 36.0% with all ten."""
    spec = importlib.util.spec_from_file_location("early_stopping", os.path.join(ROOT, "benchmarks",
                                                                                 "early_stopping.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    with open(os.path.join(ROOT, "benchmarks", "fixtures", "lightning_mlp_curves.json")) as f:
        curves = [c["val_acc"] for c in json.load(f)["curves"]]
    finals = [c[-1] for c in curves]
    top10 = set(sorted(range(len(curves)), key=lambda j: -finals[j])[:10])
    order = list(range(len(curves)))
    random.Random(2).shuffle(order)
    total = len(curves) * len(curves[0])
    run_band, completed_band = bench.replay(curves, order, GuardBandAssessor(), workers=4)
    _, completed_guard = bench.replay(curves, order, TopKGuardAssessor(), workers=4)
    run_median, _ = bench.replay(curves, order, MedianStopAssessor(start_step=3), workers=4)
    assert top10 <= set(completed_band) and not top10 <= set(completed_guard)
    assert run_band < run_median and 1 - run_band / total >= 0.4
