"""Multi-objective search: reward_attribute/optimize_mode lists, key-path errors, single-objective searchers
refusing a list, the Pareto front, and NSGA2Searcher (Optuna's NSGA-II) through the searcher protocol."""
import pytest

from gml.errors import GmlConfigError
from gml.search.config.build import build_searcher
from gml.search.config.search_config import parse_search_config
from gml.search.objectives import Objective, pareto_front

SPACE = [{"type": "Real", "name": "x", "data": [0.0, 1.0]},
         {"type": "Categorical", "name": "w", "data": [1, 2, 4, 8]}]


def config(tmp_path, reward_attribute, optimize_mode, searcher="NSGA2Searcher", **keys):
    raw = {"task": {"template": "python train.py --x {x} --w {w}", "search_args": SPACE},
           "searcher": dict({"type": searcher, "reward_attribute": reward_attribute, "optimize_mode": optimize_mode},
                            **keys)}
    return parse_search_config(raw, str(tmp_path))


def drive_two_objectives(searcher, cfg, trials):
    """Ask ``searcher`` for ``trials`` points, each new, in the space and with an int ``w``, and tell it
    acc = x (1 - 1 / (1 + w)) and params = 10 w, or None (a failed job) for every 7th; returns (points, values
    told)."""
    seen, told = [], []
    for i in range(trials):
        point = searcher.suggest()
        assert point is not None and cfg.space.contains(point) and isinstance(point["w"], int)
        assert point not in seen
        seen.append(point)
        searcher.mark_issued(point)
        told.append(None if i % 7 == 6 else [point["x"] * (1 - 1 / (1 + point["w"])), point["w"] * 10.0])
        searcher.observe(point, told[-1])
    return seen, told


def assert_front_is_optunas(trials, study):
    """gml's Pareto front of the (acc max, params min) values of ``trials`` is Optuna's ``best_trials``."""
    objectives = [Objective("acc", "maximize"), Objective("params", "minimize")]
    ours = pareto_front([(t.number, t.values) for t in trials], objectives)
    assert sorted(k for k, _ in ours) == sorted(t.number for t in study.best_trials)


def test_objectives_parse_and_the_first_is_the_reward(tmp_path):
    cfg = config(tmp_path, ["acc", "params"], ["maximize", "minimize"], scalars=None)
    assert cfg.searcher.objectives == [Objective("acc", "maximize"), Objective("params", "minimize")]
    assert (cfg.searcher.reward_attribute, cfg.searcher.optimize_mode) == ("acc", "maximize")
    assert cfg.collected_scalars[:2] == ["acc", "params"]
    same_mode = config(tmp_path, ["loss", "latency"], "minimize")
    assert [o.mode for o in same_mode.searcher.objectives] == ["minimize", "minimize"]
    assert config(tmp_path, "acc", "maximize").searcher.objectives == [Objective("acc", "maximize")]


@pytest.mark.parametrize("attrs, modes, path, words", [
    (["acc", "params"], ["maximize"], "searcher.optimize_mode", "gives 1 modes for 2 objectives"),
    (["acc", "params"], ["maximize", "smaller"], "searcher.optimize_mode[1]", "one of maximize, minimize"),
    (["acc", "acc"], "maximize", "searcher.reward_attribute[1]", "listed twice"),
    (["acc", 3], "maximize", "searcher.reward_attribute[1]", "a scalar name"),
    ([], "maximize", "searcher.reward_attribute", "a non-empty list"),
])
def test_bad_objectives_name_their_key_path(tmp_path, attrs, modes, path, words):
    with pytest.raises(GmlConfigError) as err:
        config(tmp_path, attrs, modes)
    assert err.value.path == path and words in err.value.message, str(err.value)


@pytest.mark.parametrize("searcher", ["GridSearcher", "RandomSearcher", "SkoptSearcher", "EvolutionSearcher",
                                      "GPSearcher", "CMAESSearcher"])
def test_single_objective_searchers_refuse_a_list(tmp_path, searcher):
    cfg = config(tmp_path, ["acc", "params"], ["maximize", "minimize"], searcher=searcher)
    with pytest.raises(GmlConfigError) as err:
        build_searcher(cfg)
    assert err.value.path == "searcher.reward_attribute"
    assert f"{searcher} optimises one objective, got 2 (acc, params)" in err.value.message
    assert err.value.message.endswith("multi-objective searcher: NSGA2Searcher, TPESearcher")


def test_the_pareto_front_keeps_the_undominated_entries():
    objectives = [Objective("acc", "maximize"), Objective("params", "minimize")]
    entries = [(0, [0.9, 100]), (1, [0.8, 50]), (2, [0.8, 60]), (3, [0.95, 400]), (4, [0.9, 100]), (5, [0.5, 50])]
    assert [k for k, _ in pareto_front(entries, objectives)] == [0, 1, 3, 4]


def test_nsga2_searches_two_objectives_with_typed_unique_points(tmp_path):
    cfg = config(tmp_path, ["acc", "params"], ["maximize", "minimize"], seed=3, population_size=6)
    searcher = build_searcher(cfg)
    assert searcher.directions == ["maximize", "minimize"] and searcher.multi_objective
    drive_two_objectives(searcher, cfg, 36)          # acc grows with x and w, params grow with w; every 7th fails
    complete = [t for t in searcher.study.trials if t.state.name == "COMPLETE"]
    assert len(complete) == 31 and all(len(t.values) == 2 for t in complete)
    # NSGA-II bred generations (population 6), and its front is gml's Pareto front of the same values
    assert max(t.system_attrs.get("NSGAIISampler:generation", 0) for t in complete) >= 4
    assert_front_is_optunas(complete, searcher.study)


def test_nsga2_replays_a_resume_with_lists_and_single_objective_numbers(tmp_path):
    cfg = config(tmp_path, ["acc", "params"], ["maximize", "minimize"], seed=0)
    searcher = build_searcher(cfg)
    history = [({"x": 0.5, "w": 2}, [0.4, 20.0], True), ({"x": 0.1, "w": 8}, None, True),
               ({"x": 0.9, "w": 1}, None, False)]
    searcher.restore(history)
    states = sorted(t.state.name for t in searcher.study.trials)
    assert states == ["COMPLETE", "FAIL", "RUNNING"] and searcher.issued_count == 3
    single = build_searcher(config(tmp_path, "acc", "maximize", seed=0))
    point = single.suggest()
    single.mark_issued(point)
    single.observe(point, 0.7)
    assert single.study.trials[0].values == [0.7]


def test_motpe_searches_two_objectives_and_tells_a_failed_job_the_nadir(tmp_path):
    cfg = config(tmp_path, ["acc", "params"], ["maximize", "minimize"], searcher="TPESearcher", seed=3,
                 n_startup_trials=5)
    searcher = build_searcher(cfg)
    assert searcher.directions == ["maximize", "minimize"] and searcher.multi_objective
    seen, values = drive_two_objectives(searcher, cfg, 30)
    told = []
    for v in values:             # a failure is told the nadir of the values told before it
        told.append(v if v is not None else [min(t[0] for t in told if t), max(t[1] for t in told if t)])
    trials = searcher.study.trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 30     # no repeats asked, failures told the nadir
    assert [t.values for t in trials] == told
    assert_front_is_optunas(trials, searcher.study)
    with pytest.raises(ValueError, match="optimises 2 objectives, was told 1 values"):
        searcher.observe(seen[0], [0.5])
    slots = []                                            # parallel slots: pending points are running trials
    for _ in range(3):
        slots.append(searcher.suggest())
        searcher.mark_issued(slots[-1])
    assert len({repr(sorted(p.items())) for p in slots}) == 3 and not any(p in seen for p in slots)


def test_motpe_hands_constraint_violations_to_the_sampler(tmp_path):
    cfg = config(tmp_path, ["acc", "params"], ["maximize", "minimize"], searcher="TPESearcher", seed=0)
    searcher = build_searcher(cfg)
    for violation in (0.0, 2.5):
        point = searcher.suggest()
        searcher.mark_issued(point)
        searcher.constraints_observed(point, [violation])
        searcher.observe(point, [0.5, 10.0])
    assert [t.system_attrs["constraints"] for t in searcher.study.trials] == [(0.0,), (2.5,)]


@pytest.mark.parametrize("directions, path", [(["maximize", "up"], "searcher.directions[1]"),
                                              ("maximize", "searcher.directions")])
def test_bad_directions_name_their_key_path(directions, path):
    from gml.registry import SEARCHERS
    from gml.search.space.parse import parse_search_args
    with pytest.raises(GmlConfigError) as err:
        SEARCHERS.build({"type": "TPESearcher", "directions": directions}, "searcher",
                        space=parse_search_args(SPACE))
    assert err.value.path == path, str(err.value)
