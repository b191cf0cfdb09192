"""The built-in assessors on hand-made curves whose outcome is known."""
import math
import time

import pytest

from gml.errors import GmlConfigError
from gml.registry import ASSESSORS
from gml.search.assessors import (ASHAAssessor, Assessor, CurveFittingAssessor, Decision, MedianStopAssessor,
                                  TopKGuardAssessor)

STOP, GO = Decision.STOP, Decision.CONTINUE
NAN = float("nan")


def completed(assessor, job_id, curve, success=True):
    """Feed a whole curve point by point, as the controller does, then end the job."""
    for i in range(1, len(curve) + 1):
        assessor.assess_job(job_id, curve[:i])
    assessor.job_end(job_id, success)


def build(cfg, optimize_mode="maximize"):
    return ASSESSORS.build(cfg, "scheduler.assessor", optimize_mode=optimize_mode)


# -- MedianStopAssessor ------------------------------------------------------------------------------------
THREE = {10: [(1, 0.5), (2, 0.6), (3, 0.7)],     # running averages at step 2: 0.55, 0.35, 0.15
         11: [(1, 0.3), (2, 0.4), (3, 0.5)],
         12: [(1, 0.1), (2, 0.2), (3, 0.3)]}


def median_with(curves, **kw):
    a = MedianStopAssessor(**kw)
    for job_id, curve in curves.items():
        completed(a, job_id, curve)
    return a


def test_median_stops_below_the_median_of_running_averages_and_lets_a_tie_run():
    a = median_with(THREE)
    assert a.median_at(2) == pytest.approx(0.35)
    assert a.assess_job(1, [(1, 0.2), (2, 0.3)]) == STOP            # best 0.3 < 0.35
    assert a.assess_job(2, [(1, 0.35), (2, 0.1)]) == GO             # best so far 0.35 == median: continue
    assert a.assess_job(3, [(1, 0.1), (2, 0.36)]) == GO
    assert a.assess_job(4, [(1, 0.0), (2, 0.0), (3, 0.0), (4, 0.0)]) == GO   # no completed job reached step 4


def test_median_waits_for_start_step_and_for_completed_jobs():
    fresh = MedianStopAssessor(start_step=0)
    assert fresh.assess_job(0, [(1, 0.0)]) == GO                    # nothing to compare with
    a = median_with(THREE, start_step=3)
    assert a.assess_job(1, [(1, 0.0), (2, 0.0)]) == GO              # step 2 < start_step
    assert a.assess_job(1, [(1, 0.0), (2, 0.0), (3, 0.0)]) == STOP


def test_median_of_an_even_count_is_the_lenient_middle_value():
    curves = {0: [(1, 0.2)], 1: [(1, 0.6)]}
    up = median_with(curves)
    assert up.median_at(1) == 0.2 and up.assess_job(5, [(1, 0.3)]) == GO and up.assess_job(6, [(1, 0.1)]) == STOP
    down = median_with(curves, optimize_mode="minimize")
    assert down.median_at(1) == 0.6
    assert down.assess_job(5, [(1, 0.5)]) == GO and down.assess_job(6, [(1, 0.7)]) == STOP


def test_median_minimize_uses_the_lowest_value_so_far():
    losses = {0: [(1, 1.0), (2, 0.8), (3, 0.6)], 1: [(1, 2.0), (2, 1.6), (3, 1.2)], 2: [(1, 3.0), (2, 2.8), (3, 2.0)]}
    a = median_with(losses, optimize_mode="minimize")
    assert a.median_at(2) == pytest.approx(1.8)
    assert a.assess_job(5, [(1, 1.9), (2, 1.85)]) == STOP
    assert a.assess_job(6, [(1, 1.5), (2, 3.0)]) == GO                 # its best (1.5) beats the median


def test_median_nan_values_and_missing_steps():
    curves = {0: [(1, 0.2), (4, 0.8)],                    # missing steps 2, 3; at step 3 its average is 0.2
              1: [(1, 0.4), (2, NAN), (3, 0.6)],          # NaN left out: average at 3 = 0.5
              2: [(1, 0.9), (2, 0.9)]}                    # ended at step 2: does not count at step 3
    a = median_with(curves)
    assert a.median_at(3) == pytest.approx(0.2)           # values 0.2 and 0.5, lenient middle
    assert a.median_at(2) == pytest.approx(0.4)           # 0.2, 0.4, 0.9
    assert a.assess_job(7, [(1, NAN), (3, 0.25)]) == GO
    assert a.assess_job(8, [(1, NAN), (2, NAN), (3, NAN)]) == STOP      # all NaN: worse than any median
    assert a.assess_job(9, [(1, 0.1), (3, NAN)]) == STOP


def test_median_only_successful_jobs_are_references():
    a = MedianStopAssessor()
    completed(a, 0, [(1, 0.9), (2, 0.9)], success=False)      # stopped or failed: not a reference
    assert a.median_at(1) is None and a.assess_job(1, [(1, 0.0)]) == GO
    a.job_end(99, True)                                        # a job never seen: ignored


def test_median_replay_rebuilds_the_same_state():
    live = median_with(THREE)
    again = MedianStopAssessor()
    for job_id, curve in THREE.items():
        again.replay(job_id, curve, True)
    again.replay(20, [(1, 0.0)], False)
    assert [again.median_at(s) for s in (1, 2, 3)] == [live.median_at(s) for s in (1, 2, 3)]


# -- CurveFittingAssessor ----------------------------------------------------------------------------------
def saturating(top, rate=0.35, start=0.1, steps=range(1, 21), offset=0.0):
    return [(s, top - (top - start) * math.exp(-rate * (s + offset))) for s in steps]


def fitted_assessor(**kw):
    a = CurveFittingAssessor(epoch_num=20, start_step=5, **kw)
    completed(a, 0, saturating(0.9))
    assert a.best_final == pytest.approx(saturating(0.9)[-1][1])
    return a


def test_curve_fitting_stops_a_curve_heading_for_a_poor_final_value():
    a = fitted_assessor()
    poor = saturating(0.5)
    assert a.assess_job(1, poor[:4]) == GO                   # before start_step
    assert a.assess_job(1, poor[:6]) == STOP
    assert a.last_prediction[1] == pytest.approx(0.5, abs=0.03)


def test_curve_fitting_keeps_a_curve_heading_for_the_best_value():
    a = fitted_assessor()
    good = saturating(0.92, rate=0.25)
    assert a.assess_job(2, good[:6]) == GO
    assert a.last_prediction[2] > 0.95 * 0.9
    noisy = [(s, v + (0.01 if s % 2 else -0.01)) for s, v in good[:8]]
    assert a.assess_job(3, noisy) == GO


def test_curve_fitting_lets_a_job_run_when_it_cannot_predict():
    a = fitted_assessor()
    a.start_step = 1
    assert a.assess_job(1, [(1, 0.01), (2, 0.02)]) == GO     # two points: no family can be fitted
    assert a.last_prediction[1] is None
    fresh = CurveFittingAssessor(epoch_num=20, start_step=1)
    assert fresh.assess_job(1, saturating(0.2)[:8]) == GO    # no completed job yet: nothing to compare with


def test_curve_fitting_gap_nan_and_step_zero():
    a = fitted_assessor(gap=3)
    poor = saturating(0.5)
    assert a.assess_job(1, poor[:5]) == STOP
    a.last_prediction.clear()
    assert a.assess_job(1, poor[:6]) == GO and 1 not in a.last_prediction      # gap: judged again at 8 points
    assert a.assess_job(1, poor[:8]) == STOP
    with_nan = poor[:3] + [(4, NAN)] + poor[4:7]
    assert a.assess_job(4, with_nan) == STOP                 # NaN left out of the fit
    zero_based = [(s - 1, v) for s, v in poor[:6]]           # steps 0..5 are epochs 1..6
    assert a.assess_job(5, zero_based) == STOP
    assert a.last_prediction[5] == pytest.approx(0.5, abs=0.02)


def test_curve_fitting_is_deterministic_and_uses_the_observed_value_at_epoch_num():
    one, two = fitted_assessor(), fitted_assessor()
    curve = saturating(0.8)[:7]
    assert one.assess_job(1, curve) == two.assess_job(1, curve)
    assert one.last_prediction[1] == two.last_prediction[1]
    reached = saturating(0.87)                               # 0.87 >= 0.95 x 0.8993; 0.84 is not
    assert one.assess_job(2, reached) == GO and one.last_prediction[2] == reached[-1][1]
    assert one.assess_job(3, saturating(0.84)) == STOP


def test_curve_fitting_replay_restores_the_best_final_value_quickly():
    a = CurveFittingAssessor(epoch_num=20)
    started = time.perf_counter()
    for job_id in range(50):
        a.replay(job_id, saturating(0.5 + job_id / 200), success=job_id != 49)
    assert time.perf_counter() - started < 0.5                    # no curve is fitted on replay
    assert a.best_final == pytest.approx(saturating(0.5 + 48 / 200)[-1][1])


def test_curve_fitting_refuses_minimize_with_a_clear_message():
    with pytest.raises(GmlConfigError) as err:
        build({"type": "CurveFittingAssessor", "epoch_num": 24}, optimize_mode="minimize")
    assert "scheduler.assessor" in str(err.value) and "maximize" in str(err.value)
    with pytest.raises(GmlConfigError, match=r"^scheduler\.assessor\.epoch_num: expected an integer >= 1, got 0$"):
        build({"type": "CurveFittingAssessor", "epoch_num": 0})
    with pytest.raises(GmlConfigError, match=r"^scheduler\.assessor\.threshold: expected a number > 0, got 'high'$"):
        build({"type": "CurveFittingAssessor", "threshold": "high"})


# -- ASHAAssessor ------------------------------------------------------------------------------------------
def test_asha_keeps_the_top_third_at_each_rung():
    a = ASHAAssessor(min_step=1, reduction_factor=3, min_jobs_per_rung=0)
    assert [a.rung_step(k) for k in range(3)] == [1, 3, 9]
    assert a.assess_job(0, [(1, 0.5)]) == GO                 # alone at rung 0
    assert a.assess_job(1, [(1, 0.4)]) == STOP               # 2 values: top ceil(2/3) = 1
    assert a.assess_job(2, [(1, 0.5)]) == GO                 # a tie with the cut-off continues
    assert a.assess_job(3, [(1, 0.45)]) == STOP
    assert a.assess_job(0, [(1, 0.5), (2, 0.1)]) == GO       # no rung at step 2; rung 0 judged once
    assert a.assess_job(0, [(1, 0.5), (2, 0.1), (3, 0.6)]) == GO      # first at rung 1
    assert a.assess_job(2, [(1, 0.5), (2, 0.5), (3, 0.55)]) == STOP


def test_asha_minimize_nan_and_skipped_rungs():
    a = ASHAAssessor(optimize_mode="minimize", min_step=2, reduction_factor=2, min_jobs_per_rung=0)
    assert a.assess_job(0, [(2, 1.0)]) == GO
    assert a.assess_job(1, [(2, 0.5)]) == GO
    assert a.assess_job(2, [(2, 2.0)]) == STOP
    assert a.assess_job(3, [(2, NAN)]) == STOP
    assert a.assess_job(4, [(5, 0.4)]) == GO                 # first report past rungs 2 and 4: judged at both
    assert set(a.rungs[0]) == {0, 1, 2, 3, 4} and set(a.rungs[1]) == {4}


def test_asha_config_errors():
    with pytest.raises(GmlConfigError,
                       match=r"^scheduler\.assessor\.reduction_factor: expected an integer >= 2, got 1$"):
        build({"type": "ASHAAssessor", "reduction_factor": 1})
    with pytest.raises(GmlConfigError, match=r"^scheduler\.assessor\.min_step: expected an integer >= 1, got True$"):
        build({"type": "ASHAAssessor", "min_step": True})
    assert isinstance(build({"type": "SuccessiveHalvingAssessor"}), ASHAAssessor)


# -- the registry ------------------------------------------------------------------------------------------
def test_registered_names_defaults_and_unknown_keys():
    median = build({"type": "MedianStopAssessor", "start_step": 3}, optimize_mode="minimize")
    assert isinstance(median, MedianStopAssessor) and median.optimize_mode == "minimize" and median.start_step == 3
    assert isinstance(build({"type": "Medianstop"}), MedianStopAssessor)
    assert isinstance(build({"type": "CurveFittingAssessor", "epoch_num": 24, "start_step": 4}), CurveFittingAssessor)
    with pytest.raises(GmlConfigError) as err:
        build({"type": "MedianStopAssessor", "start": 3})
    assert "scheduler.assessor.start" in str(err.value) and "start_step" in str(err.value)


def test_a_user_assessor_plugs_in_by_registration():
    @ASSESSORS.register_module(force=True)
    class StopOddJobsAt2(Assessor):
        def __init__(self, optimize_mode="maximize"):
            super().__init__(optimize_mode)
            self.ended = []

        def assess_job(self, job_id, history):
            return STOP if job_id % 2 and history[-1][0] >= 2 else GO

        def job_end(self, job_id, success):
            self.ended.append((job_id, success))

    user = build({"type": "StopOddJobsAt2"})
    assert user.assess_job(1, [(1, 0.0), (2, 0.0)]) == STOP and user.assess_job(2, [(2, 0.0)]) == GO
    user.replay(3, [(1, 0.5)], True)
    assert user.ended == [(3, True)]


# -- the real learning-curve bank of benchmarks/early_stopping.py -------------------------------------------
def test_on_real_curves_median_and_asha_save_half_the_epochs_and_keep_the_best_job():
    import importlib.util
    import json
    import os
    import random
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    spec = importlib.util.spec_from_file_location("early_stopping", os.path.join(root, "benchmarks", "early_stopping.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    with open(os.path.join(root, "benchmarks", "fixtures", "digits_mlp_curves.json")) as f:
        curves = [c["val_acc"] for c in json.load(f)["curves"]]
    assert len(curves) >= 100 and all(len(c) == len(curves[0]) >= 20 for c in curves)
    finals = [c[-1] for c in curves]
    order = list(range(len(curves)))
    random.Random(0).shuffle(order)
    for make in (lambda: MedianStopAssessor(start_step=3), lambda: ASHAAssessor(min_step=1, min_jobs_per_rung=0)):
        run, completed = bench.replay(curves, order, make(), workers=4)
        assert 1 - run / (len(curves) * len(curves[0])) >= 0.5
        assert max(finals[j] for j in completed) == max(finals)
    top10 = set(sorted(range(len(curves)), key=lambda j: -finals[j])[:10])
    run, completed = bench.replay(curves, order, TopKGuardAssessor(), workers=4)
    assert 1 - run / (len(curves) * len(curves[0])) >= 0.55
    assert top10 <= set(completed)


def test_the_assessor_contract_is_an_abstract_base_checked_when_built():
    class NoDecision(Assessor):
        def job_end(self, job_id, success):
            pass

    with pytest.raises(TypeError, match="assess_job"):
        NoDecision()

    @ASSESSORS.register_module(force=True)
    class DuckTyped:
        def __init__(self, optimize_mode="maximize"):
            pass

        def assess_job(self, job_id, history):
            return GO

    from gml.search.config.build import build_assessor
    from gml.search.config.search_config import parse_search_config
    config = parse_search_config({"task": {"template": "echo {x}", "search_args": [
        {"type": "Categorical", "name": "x", "data": [1]}]}, "scheduler": {"assessor": {"type": "DuckTyped"}}}, ".")
    with pytest.raises(GmlConfigError, match=r"scheduler.assessor.type: 'DuckTyped' is not an Assessor"):
        build_assessor(config)


def test_asha_grace_no_stop_before_min_jobs_per_rung_values():
    a = ASHAAssessor(min_step=1, reduction_factor=2, min_jobs_per_rung=3)
    assert a.assess_job(0, [(1, 0.9)]) == GO
    assert a.assess_job(1, [(1, 0.1)]) == GO                 # 2 values at the rung: too few to rank
    assert a.assess_job(2, [(1, 0.05)]) == STOP              # 3 values: only the top ceil(3/2) = 2 go on
    assert a.assess_job(3, [(1, 0.5)]) == GO


# -- TopKGuardAssessor ---------------------------------------------------------------------------------
def test_top_k_guard_stops_only_jobs_behind_every_guard_job():
    a = TopKGuardAssessor(top_k=2, start_step=2, min_completed=2)
    a.replay(0, [(1, 0.2), (2, 0.5), (3, 0.9)], True)       # slow starter, best final
    assert a.bar_at(2) is None                                   # one completed job: no guard yet
    a.replay(1, [(1, 0.6), (2, 0.7), (3, 0.8)], True)
    a.replay(2, [(1, 0.1), (2, 0.1), (3, 0.1)], False)      # failed jobs are no reference
    a.replay(3, [(1, 0.1), (2, 0.2), (3, 0.3)], True)       # completed, but not in the top 2
    assert a.bar_at(2) == 0.5                                    # the weakest of the guard at step 2
    assert a.assess_job(4, [(1, 0.0)]) == GO                     # before start_step
    assert a.assess_job(4, [(1, 0.0), (2, 0.5)]) == GO           # level with the slow starter
    assert a.assess_job(5, [(1, 0.6), (2, 0.45)]) == GO          # its best so far (0.6) counts
    assert a.assess_job(6, [(1, 0.3), (2, 0.4)]) == STOP
    assert a.assess_job(7, [(1, NAN), (2, NAN)]) == STOP
    m = TopKGuardAssessor(optimize_mode="minimize", top_k=1, start_step=1, min_completed=1)
    m.replay(0, [(1, 2.0), (2, 1.0)], True)
    assert m.assess_job(1, [(1, 1.5)]) == GO and m.assess_job(2, [(1, 2.5)]) == STOP


def test_top_k_guard_rebuilds_on_replay_and_validates():
    a = TopKGuardAssessor(top_k=1, start_step=1, min_completed=1)
    a.assess_job(0, [(1, 0.5)])
    a.job_end(0, True)                                           # job_end alone: the curve last assessed
    assert a.bar_at(1) == 0.5
    for bad in ({"top_k": 0}, {"margin": 1.5}, {"min_completed": "3"}):
        with pytest.raises(ValueError):
            TopKGuardAssessor(**bad)


def test_judge_new_steps_judges_each_step_that_arrived_together():
    from gml.search.assessors.base import judge_new_steps
    a = MedianStopAssessor(start_step=2)
    a.replay(0, [(s, 0.9) for s in range(1, 9)], True)
    curve = [(s, 0.1) for s in range(1, 7)]              # six steps in one read: the rule stops at step 2
    assert a.assess_job(1, curve) == STOP                 # (asked once, it would only say so at step 6)
    assert judge_new_steps(a, 1, curve, None) == (STOP, 2)
    assert judge_new_steps(a, 2, [(1, 0.95), (2, 0.95), (3, 0.95)], None) == (GO, 3)
    assert judge_new_steps(a, 2, [(1, 0.95), (2, 0.95), (3, 0.95)], 3) == (GO, 3)
    assert judge_new_steps(a, 2, [(1, 0.95), (2, 0.95), (3, 0.95), (4, 0.1)], 3) == (GO, 4)
