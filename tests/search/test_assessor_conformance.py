"""The assessor conformance suite (gml.testing.assessors) over every built-in assessor.

To add a built-in assessor, add an ``AssessorCase`` to ASSESSOR_CASES.
"""
import pytest

from gml.search.assessors import (ASHAAssessor, CurveFittingAssessor, GuardBandAssessor, MedianStopAssessor,
                                  TopKGuardAssessor)
from gml.testing.assessors import AssessorCase, AssessorSuite

ASSESSOR_CASES = [
    AssessorCase("MedianStopAssessor", {"start_step": 3}),
    AssessorCase(ASHAAssessor, {"min_step": 2, "reduction_factor": 2}),
    AssessorCase(TopKGuardAssessor, {"top_k": 3, "start_step": 2}),
    AssessorCase(GuardBandAssessor, {"top_k": 3}),
    AssessorCase("GuardBandAssessor", {"top_k": 3, "start_step": 3, "lag": 1.0, "tolerance": 1.0}),
    AssessorCase(GuardBandAssessor, {"top_k": 3, "with_median": False, "guard_fraction": 0.75}),
    # maximize only: it extrapolates rising curves
    AssessorCase(CurveFittingAssessor, {"epoch_num": 12, "start_step": 5, "gap": 2}, modes=("maximize",)),
]


class TestBuiltinAssessors(AssessorSuite):
    @pytest.fixture(params=ASSESSOR_CASES, ids=lambda c: c.name)
    def assessor_case(self, request):
        return request.param


def test_the_suite_catches_an_assessor_that_breaks_the_contract():
    """The suite fails on an assessor that stops before start_step and answers a bool instead of a Decision."""
    class Hasty(MedianStopAssessor):
        def assess_job(self, job_id, history):
            decision = super().assess_job(job_id, history)
            return True if history and history[-1][0] == 1 else decision

    suite, case = TestBuiltinAssessors(), AssessorCase(Hasty, {"start_step": 3})
    with pytest.raises(AssertionError, match="not a Decision"):
        suite.test_answers_are_decisions_and_no_stop_before_start_step(case, "maximize")
