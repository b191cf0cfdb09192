"""The Assessor conformance suite: every answer is a Decision, no STOP before ``start_step``, the same histories give
the same decisions, empty / one-point / NaN histories are handled, replaying finished jobs (a resume) leaves the
assessor deciding as the live one does, maximize and minimize are mirror images, and a clearly poor job is stopped.

Check your own assessor with one import, in a test file::

    import pytest
    from gml.testing.assessors import AssessorCase, AssessorSuite

    from my_package.assessors import MyAssessor


    class TestMyAssessor(AssessorSuite):
        @pytest.fixture
        def assessor_case(self):
            return AssessorCase(MyAssessor, kwargs={"start_step": 3})

``AssessorCase`` takes the class (or its name in ``gml.registry.ASSESSORS``), its config keys, the optimize modes
it supports and whether it promises to stop a job far below every other (``stops_poor_jobs``). It is built the way
a search config builds it (``ASSESSORS.build`` with ``optimize_mode``). The suite drives it as the controller does
(gml.search.assessors.base): ``assess_job(job_id, history)`` on each new point of a running job, ``job_end(job_id,
success)`` when the job ends (``success`` False when it was stopped), ``replay(job_id, history, success)`` for jobs
that ended before a resume. The histories are learning curves of 12 steps (steps 1..12), several jobs running at
once; pick ``start_step`` (and the like) within that range.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Dict, List, Tuple, Union

import pytest

from ..registry import ASSESSORS
from ..search import assessors as _builtin_assessors  # noqa: F401  (registers the built-ins)
from ..search.assessors.base import Curve, Decision
from ._registry import registry_for

STEPS = 12
NAN = float("nan")


def accuracy_curve(top: float, rate: float, noise: float, rng: random.Random) -> Curve:
    """A rising learning curve towards ``top`` at steps 1..STEPS, with uniform noise of +-``noise``."""
    return [(s, top - (top - 0.1) * math.exp(-rate * s) + rng.uniform(-noise, noise)) for s in range(1, STEPS + 1)]


def curve_bank(n: int = 10, seed: int = 0) -> List[Curve]:
    """``n`` learning curves of different quality (final values about 0.5 to 0.95), reproducible under ``seed``."""
    rng = random.Random(seed)
    return [accuracy_curve(rng.uniform(0.5, 0.95), rng.uniform(0.2, 0.5), 0.01, rng) for _ in range(n)]


#: a job far below every curve of the bank (it ends near 0.15)
POOR = accuracy_curve(0.15, 0.3, 0.0, random.Random(1))


def mirrored(curve: Curve, mode: str) -> Curve:
    """The curve as a ``mode`` metric: as is to maximize, negated to minimize (the same ranking)."""
    return list(curve) if mode == "maximize" else [(s, -v) for s, v in curve]


@dataclass
class AssessorCase:
    """One assessor configuration to check. ``assessor``: the class, or its name in ``gml.registry.ASSESSORS``;
    ``kwargs``: its config keys; ``modes``: the optimize modes it supports; ``stops_poor_jobs``: it stops a job
    whose curve stays far below all the completed ones (POOR against curve_bank())."""

    assessor: Union[str, type]
    kwargs: dict = field(default_factory=dict)
    modes: Tuple[str, ...] = ("maximize", "minimize")
    stops_poor_jobs: bool = True

    @property
    def name(self) -> str:
        return self.assessor if isinstance(self.assessor, str) else self.assessor.__name__

    def build(self, mode: str = "maximize"):
        registry, name = registry_for(ASSESSORS, self.assessor)
        return registry.build({"type": name, **self.kwargs}, "scheduler.assessor", optimize_mode=mode)


@dataclass
class SearchRecord:
    """What a simulated search asked and heard: every ``(job_id, last step, decision)`` in call order, and the
    ended jobs as ``(job_id, history up to the end, success)`` in end order."""

    decisions: List[Tuple[int, int, Decision]] = field(default_factory=list)
    ended: List[Tuple[int, Curve, bool]] = field(default_factory=list)


def simulate(assessor, curves: Dict[int, Curve], parallel: int = 3) -> SearchRecord:
    """Run the jobs ``curves`` (job id -> full curve) ``parallel`` at a time, in job id order, each advancing one
    point per round, as the controller drives an assessor. A job ends at its last point (success) or when the
    assessor says STOP (not a success)."""
    record = SearchRecord()
    waiting = sorted(curves)
    running: Dict[int, int] = {}      # job id -> points delivered
    while waiting or running:
        while waiting and len(running) < parallel:
            running[waiting.pop(0)] = 0
        for job_id in sorted(running):
            running[job_id] += 1
            history = curves[job_id][:running[job_id]]
            decision = assessor.assess_job(job_id, list(history))
            assert isinstance(decision, Decision), f"assess_job returned {decision!r}, not a Decision"
            record.decisions.append((job_id, history[-1][0], decision))
            if decision is Decision.STOP or running[job_id] == len(curves[job_id]):
                success = decision is not Decision.STOP
                assessor.job_end(job_id, success)
                record.ended.append((job_id, list(history), success))
                del running[job_id]
    return record


def feed(assessor, job_id: int, curve: Curve) -> List[Decision]:
    """The decisions on one running job's curve, point by point, until the first STOP (the job then ends)."""
    decisions = []
    for i in range(1, len(curve) + 1):
        decision = assessor.assess_job(job_id, list(curve[:i]))
        assert isinstance(decision, Decision), f"assess_job returned {decision!r}, not a Decision"
        decisions.append(decision)
        if decision is Decision.STOP:
            assessor.job_end(job_id, False)
            break
    return decisions


def bank_for(mode: str) -> Dict[int, Curve]:
    return {job_id: mirrored(curve, mode) for job_id, curve in enumerate(curve_bank())}


class AssessorSuite:
    """The Assessor contract (gml.search.assessors.base). Subclass it as ``Test...`` and define the fixture
    ``assessor_case`` returning an :class:`AssessorCase` (see the module docstring)."""

    @pytest.fixture(params=["maximize", "minimize"])
    def mode(self, request, assessor_case):
        if request.param not in assessor_case.modes:
            pytest.skip(f"{assessor_case.name} does not support optimize_mode {request.param!r}")
        return request.param

    def test_answers_are_decisions_and_no_stop_before_start_step(self, assessor_case, mode):
        assessor = assessor_case.build(mode)
        start_step = assessor.start_step
        record = simulate(assessor, bank_for(mode))
        early = [(j, s) for j, s, d in record.decisions if d is Decision.STOP and s < start_step]
        assert early == [], f"stopped before start_step {start_step}: (job, step) {early}"
        # a job far below every completed one is still left alone before start_step
        poor = mirrored(POOR, mode)
        before = [p for p in poor if p[0] < start_step]
        assert feed(assessor, 100, before) == [Decision.CONTINUE] * len(before)

    def test_a_poor_job_is_stopped(self, assessor_case, mode):
        if not assessor_case.stops_poor_jobs:
            pytest.skip(f"{assessor_case.name} does not promise to stop poor jobs")
        assessor = assessor_case.build(mode)
        simulate(assessor, bank_for(mode))
        decisions = feed(assessor, 100, mirrored(POOR, mode))
        assert decisions[-1] is Decision.STOP, "a job far below every completed one ran to its end"

    def test_same_histories_same_decisions(self, assessor_case, mode):
        first = simulate(assessor_case.build(mode), bank_for(mode))
        second = simulate(assessor_case.build(mode), bank_for(mode))
        assert first.decisions == second.decisions

    def test_empty_short_and_nan_histories(self, assessor_case, mode):
        fresh = assessor_case.build(mode)
        assert fresh.assess_job(0, []) is Decision.CONTINUE
        assert isinstance(fresh.assess_job(0, [(1, 0.5)]), Decision)
        fresh.job_end(0, True)
        fresh.job_end(77, False)            # a job never assessed (failed before its first report)
        fresh.replay(78, [], False)
        informed = assessor_case.build(mode)
        simulate(informed, bank_for(mode))
        assert informed.assess_job(1, []) is Decision.CONTINUE
        for job_id, history in enumerate(([(1, 0.5)], [(1, NAN)], [(1, 0.3), (2, NAN), (3, 0.4)],
                                          [(s, NAN) for s in range(1, STEPS + 1)],
                                          [(s, v) for s, v in mirrored(POOR, mode)[:6] if s % 2]), start=10):
            assert isinstance(informed.assess_job(job_id, history), Decision), history
            informed.job_end(job_id, False)

    def test_replay_of_finished_jobs_decides_as_the_live_assessor(self, assessor_case, mode):
        """A resumed controller replays the store's finished jobs in job order; from then on the assessor decides
        on new jobs exactly as the one that saw them live."""
        live = assessor_case.build(mode)
        record = simulate(live, bank_for(mode))
        resumed = assessor_case.build(mode)
        for job_id, history, success in sorted(record.ended, key=lambda e: e[0]):
            resumed.replay(job_id, history, success)
        new_jobs = [mirrored(c, mode) for c in curve_bank(n=4, seed=5)] + [mirrored(POOR, mode)]
        for job_id, curve in enumerate(new_jobs, start=100):
            assert feed(resumed, job_id, curve) == feed(live, job_id, curve), f"job {job_id}"

    def test_minimize_mirrors_maximize(self, assessor_case):
        if set(assessor_case.modes) != {"maximize", "minimize"}:
            pytest.skip(f"{assessor_case.name} supports only {assessor_case.modes}")
        up = simulate(assessor_case.build("maximize"), bank_for("maximize"))
        down = simulate(assessor_case.build("minimize"), bank_for("minimize"))
        assert down.decisions == up.decisions
