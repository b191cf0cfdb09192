"""The Searcher conformance suite: valid points only, no duplicates, finite spaces exhausted exactly once,
determinism under a seed, failed and NaN rewards tolerated, parallel slots, resume by replaying the store, and
unknown config keys refused.

Check your own searcher with one import, in a test file (``tests/test_my_searcher.py``)::

    import pytest
    from gml.testing.searchers import SearcherCase, SearcherSuite

    from my_package.searchers import MySearcher


    class TestMySearcher(SearcherSuite):
        @pytest.fixture
        def searcher_case(self):
            return SearcherCase(MySearcher, kwargs={"population": 8})

and run ``pytest tests/test_my_searcher.py``. ``SearcherCase`` takes the class (or the name it is registered
under in ``gml.registry.SEARCHERS``), the config keys to build it with, and what it promises: whether it takes a
``seed`` and whether the same seed gives the same sequence. The searcher is built the way a search config builds
it (``SEARCHERS.build``: ``space`` and ``optimize_mode`` passed in, unknown keys refused). By default it runs on
``MIXED_ARGS``, a space with every argument type (Categorical with a shell-hostile string, Int with a step, log
Real, Real, Nested, File with nested args); a searcher that needs a finite space (a grid) names its own args.
A fixture with ``params=`` runs the suite over several cases (gml's own file, tests/search/test_searcher_conformance.py,
does so for every built-in searcher).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

import pytest

from ..errors import GmlConfigError
from ..registry import SEARCHERS
from ..search import searchers as _builtin_searchers  # noqa: F401  (registers the built-ins)
from ..search.space.dimensions import canonical_key
from ..search.space.parse import parse_search_args
from ._registry import registry_for

MIXED_ARGS = [
    {"type": "Categorical", "name": "opt", "data": ["sgd", "adam", "it's; rm -rf /"]},
    {"type": "Int", "name": "epochs", "data": [2, 10], "step": 2},
    {"type": "Real", "name": "lr", "data": [0.001, 0.1], "log": True},
    {"type": "Real", "name": "momentum", "data": [0.5, 0.9]},
    {"type": "Nested", "data": [{"wd": 0.0001, "bs": 64}, {"wd": 0.001, "bs": 128}]},
    {"type": "File", "name": "config", "file": "c.yaml", "search_args": [
        {"type": "Categorical", "name": "model.depth", "data": [18, 34]},
        {"type": "Nested", "data": [{"sched.step": 1, "sched.gamma": 0.5}, {"sched.step": 2, "sched.gamma": 0.7}]},
    ]},
]
#: MIXED_ARGS made finite (no log Real, a step on the Real): for searchers that enumerate the space
GRID_ARGS = [a if a.get("type") != "Real" else dict(a, step=0.1, log=False, data=[0.5, 0.9])
             for a in MIXED_ARGS if a.get("name") != "lr"]
#: a small finite space (24 points) on which every searcher must run out after each point ran once
SMALL_FINITE_ARGS = [
    {"type": "Categorical", "name": "opt", "data": ["sgd", "adam"]},
    {"type": "Int", "name": "epochs", "data": [1, 3]},
    {"type": "Real", "name": "m", "data": [0.5, 0.6], "step": 0.1},
    {"type": "Nested", "data": [{"wd": 0.1}, {"wd": 0.2}]},
]

History = List[Tuple[Dict[str, Any], Optional[float], bool]]


@dataclass
class SearcherCase:
    """One searcher configuration to check. ``searcher``: the class, or its name in ``gml.registry.SEARCHERS``;
    ``args``: the ``task.search_args`` it runs on; ``kwargs``: its config keys; ``uses_seed``: it takes ``seed``;
    ``deterministic``: the same seed gives the same sequence of points."""

    searcher: Union[str, type]
    args: list = field(default_factory=lambda: MIXED_ARGS)
    kwargs: dict = field(default_factory=dict)
    deterministic: bool = True
    uses_seed: bool = True

    @property
    def name(self) -> str:
        return self.searcher if isinstance(self.searcher, str) else self.searcher.__name__

    def build(self, mode: str = "maximize", seed: int = 0, args: Optional[list] = None, **extra: Any):
        """The searcher as a search config builds it, on ``args`` (default: the case's)."""
        kwargs = dict(self.kwargs, **extra)
        if self.uses_seed:
            kwargs.setdefault("seed", seed)
        space = parse_search_args(self.args if args is None else args)
        registry, name = registry_for(SEARCHERS, self.searcher)
        return registry.build({"type": name, **kwargs}, "searcher", space=space, optimize_mode=mode)


def objective(point: Dict[str, Any]) -> float:
    """A smooth toy objective over the mixed space (larger is better)."""
    x = 0.0
    for key, value in sorted(point.items()):
        if isinstance(value, dict):
            value = sum(v for v in value.values() if isinstance(v, (int, float)))
        if isinstance(value, (int, float)):
            x += math.sin(float(value) * 3.1 + len(key))
        else:
            x += len(str(value)) / 10
    return x


def drive(searcher, n: int, mode: str = "maximize", fail_every: int = 0) -> History:
    """The controller's protocol for ``n`` jobs one after another: suggest, mark_issued, observe (every
    ``fail_every``-th job as failed, reward None). Stops early when the searcher returns None. Returns the
    history as the store replays it: ``(point, reward, finished)``."""
    history: History = []
    for i in range(n):
        point = searcher.suggest()
        if point is None:
            break
        searcher.mark_issued(point)
        reward: Optional[float] = objective(point) if mode == "maximize" else -objective(point)
        if fail_every and i % fail_every == fail_every - 1:
            reward = None
        searcher.observe(point, reward)
        history.append((point, reward, True))
    return history


class SearcherSuite:
    """The Searcher contract (gml.search.searchers.base). Subclass it as ``Test...`` and define the fixture
    ``searcher_case`` returning a :class:`SearcherCase` (see the module docstring)."""

    def test_points_are_valid_and_never_repeat(self, searcher_case):
        searcher = searcher_case.build()
        history = drive(searcher, 40)
        assert history, "the searcher proposed nothing"
        keys = set()
        for point, _, _ in history:
            assert searcher.space.contains(point), point
            keys.add(canonical_key(point))
        assert len(keys) == len(history), "a point was proposed twice"

    def test_finite_space_is_exhausted_exactly_once(self, searcher_case):
        """Every point once, then None. A case whose space is continuous (or large) runs on SMALL_FINITE_ARGS."""
        searcher = searcher_case.build()
        size = searcher.space.size()
        if size is None or size > 1000:
            searcher = searcher_case.build(args=SMALL_FINITE_ARGS)
            size = searcher.space.size()
        history = drive(searcher, size + 10)
        assert len(history) == size
        assert len({canonical_key(p) for p, _, _ in history}) == size
        assert searcher.suggest() is None

    def test_same_seed_same_sequence(self, searcher_case):
        if not searcher_case.deterministic:
            pytest.skip(f"{searcher_case.name} is not deterministic under a seed")
        first = [canonical_key(p) for p, _, _ in drive(searcher_case.build(seed=7), 15)]
        second = [canonical_key(p) for p, _, _ in drive(searcher_case.build(seed=7), 15)]
        assert first == second

    @pytest.mark.parametrize("mode", ["maximize", "minimize"])
    def test_failed_and_nan_rewards_are_tolerated(self, searcher_case, mode):
        searcher = searcher_case.build(mode=mode)
        drive(searcher, 12, mode=mode, fail_every=3)
        point = searcher.suggest()
        if point is not None:
            searcher.mark_issued(point)
            searcher.observe(point, float("nan"))
            after = searcher.suggest()
            assert after is None or searcher.space.contains(after)
        assert searcher.score(None) is None and searcher.score(float("nan")) is None
        assert searcher.score(2.0) == (2.0 if mode == "maximize" else -2.0)

    def test_pending_points_are_not_proposed_again(self, searcher_case):
        """Several suggestions in a row before any result (parallel slots) are all distinct."""
        searcher = searcher_case.build()
        pending = []
        for _ in range(4):
            point = searcher.suggest()
            if point is None:
                break
            searcher.mark_issued(point)
            pending.append(canonical_key(point))
        assert len(set(pending)) == len(pending) >= 1

    def test_resume_by_replay_continues_without_repeats(self, searcher_case):
        first = searcher_case.build(seed=3)
        history = drive(first, 8, fail_every=4)
        # one job was still running when the controller died: it is in the store, not finished
        running = first.suggest()
        if running is not None:
            first.mark_issued(running)
            history.append((running, None, False))
        resumed = searcher_case.build(seed=3)
        resumed.restore(history)
        seen = {canonical_key(p) for p, _, _ in history}
        for point, _, _ in drive(resumed, 10):
            assert canonical_key(point) not in seen
            assert resumed.space.contains(point)
            seen.add(canonical_key(point))

    def test_unknown_keyword_is_refused_with_the_valid_ones(self, searcher_case):
        with pytest.raises(GmlConfigError) as err:
            dataclasses.replace(searcher_case, kwargs=dict(searcher_case.kwargs, no_such_option=1)).build()
        assert "searcher.no_such_option" in str(err.value) and "valid:" in str(err.value)
