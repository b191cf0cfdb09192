"""SkoptSearcher, EvolutionSearcher, TPESearcher, GPSearcher and CMAESSearcher beyond the shared conformance suite: they find good points,
respect optimize_mode, spread parallel slots, treat failures as bad, resume from the store, bound their cost, and
check their YAML keywords. (test_searcher_conformance.py runs the common contract on all searchers.)"""
import math
import random
import sys
import time

import pytest

from gml.errors import GmlConfigError
from gml.registry import SEARCHERS
from gml.search import searchers  # noqa: F401  (registers the built-ins)
from gml.search.searchers import observations, skopt_searcher
from gml.search.space.parse import parse_search_args
from gml.search.space.dimensions import canonical_key

FAST_SKOPT = {"n_initial_points": 5, "acq_optimizer": "sampling", "acq_optimizer_kwargs": {"n_points": 500}}
CASES = {
    "SkoptSearcher": FAST_SKOPT,
    "SkoptSearcher-RF": dict(FAST_SKOPT, base_estimator="RF"),
    "EvolutionSearcher": {"population_size": 6},
    "TPESearcher": {"n_startup_trials": 5},
    "GPSearcher": {"n_startup_trials": 5},
    "CMAESSearcher": {"popsize": 6},
}
MODEL_BASED = ["SkoptSearcher", "EvolutionSearcher", "TPESearcher", "GPSearcher", "CMAESSearcher"]

# Every arg type, non-numeric categorical values, and a File arg with inner Categorical/Int/Nested args.
MIXED = [
    {"type": "Categorical", "name": "act", "data": ["relu", {"name": "gelu", "approx": True}, [1, "x"], None]},
    {"type": "Int", "name": "width", "data": [16, 256], "step": 16, "log": True},
    {"type": "Int", "name": "depth", "data": [1, 6]},
    {"type": "Real", "name": "lr", "data": [1e-4, 1.0], "log": True},
    {"type": "Real", "name": "drop", "data": [0.0, 0.5], "step": 0.1},
    {"type": "Nested", "data": [{"opt": "sgd", "mom": 0.9}, {"opt": "adam", "mom": 0.0}]},
    {"type": "File", "name": "config", "file": "c.yaml", "search_args": [
        {"type": "Categorical", "name": "data.aug", "data": ["none", "flip"]},
        {"type": "Int", "name": "epochs", "data": [3, 3]},
        {"type": "Nested", "data": [{"sched.step": 1, "sched.gamma": 0.5}, {"sched.step": 2, "sched.gamma": 0.7}]},
    ]},
]
QUAD = [{"type": "Real", "name": "x", "data": [0.0, 1.0]}, {"type": "Real", "name": "y", "data": [0.0, 1.0]}]


def build(name, args, mode="maximize", seed=0, **extra):
    space = parse_search_args(args)
    kind = name.split("-")[0]
    return SEARCHERS.build({"type": kind, "seed": seed, **CASES.get(name, {}), **extra}, "searcher",
                           space=space, optimize_mode=mode)


def quad(point):
    """A bowl with its minimum 0 at (0.3, 0.7)."""
    return (point["x"] - 0.3) ** 2 + (point["y"] - 0.7) ** 2


def random_quartile():
    """The first quartile of ``quad`` under uniform random points (about 0.08)."""
    rng = random.Random(0)
    values = sorted(quad({"x": rng.random(), "y": rng.random()}) for _ in range(2000))
    return values[len(values) // 4]


def budget(name):
    """Trials for the learning tests: the GP is slow on a shared CPU, TPE and evolution need a few more."""
    return 24 if name.startswith(("Skopt", "GP")) else 40


def run(searcher, f, n, fail=lambda point: False):
    history = []
    for _ in range(n):
        point = searcher.suggest()
        assert point is not None
        searcher.mark_issued(point)
        reward = None if fail(point) else f(point)
        searcher.observe(point, reward)
        history.append((point, reward, True))
    return history


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.slow] if n == "GPSearcher" else []) for n in CASES])
def test_mixed_space_values_are_exact_and_typed(name):
    searcher = build(name, MIXED)
    space = searcher.space
    rng = random.Random(1)
    seen = set()
    for point, _, _ in run(searcher, lambda p: rng.random(), 24):
        assert space.contains(point), point
        assert list(point) == space.keys                      # every key, in the space's order
        assert type(point["width"]) is int and type(point["depth"]) is int and (point["width"] - 16) % 16 == 0
        assert isinstance(point["lr"], float) and 1e-4 <= point["lr"] <= 1.0
        assert point["drop"] in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
        assert point["config(epochs)"] == 3                    # a one-value dimension stays constant
        assert point["nested5"] in ({"opt": "sgd", "mom": 0.9}, {"opt": "adam", "mom": 0.0})
        assert point["act"] in ("relu", {"name": "gelu", "approx": True}, [1, "x"], None)
        seen.add(canonical_key(point))
    assert len(seen) == 24
    params = space.params(point)
    assert {"opt", "mom", "config(data.aug)", "config(sched.step)", "config(sched.gamma)"} <= set(params)


@pytest.mark.parametrize("name", MODEL_BASED)
@pytest.mark.parametrize("mode", ["minimize", "maximize"])
def test_learns_in_either_mode(name, mode):
    """On a bowl, the second half of the trials is much closer to the optimum than random points are; the same
    searcher told the mirrored rewards in the other mode makes exactly the same moves."""
    sign, n = (1 if mode == "minimize" else -1), budget(name)
    searcher = build(name, QUAD, mode=mode, seed=4)
    history = run(searcher, lambda p: sign * quad(p), n)
    late = sorted(quad(p) for p, _, _ in history[n // 2:])
    assert late[len(late) // 2] < random_quartile(), late        # the late median beats random's first quartile
    assert min(quad(p) for p, _, _ in history) < 0.01
    mirrored = build(name, QUAD, mode="maximize" if mode == "minimize" else "minimize", seed=4)
    again = run(mirrored, lambda p: -sign * quad(p), n)
    assert [canonical_key(p) for p, _, _ in again] == [canonical_key(p) for p, _, _ in history]


@pytest.mark.parametrize("name", MODEL_BASED)
def test_failed_jobs_never_crash_and_steer_away(name):
    """Jobs with x > 0.6 fail (reward None), as diverging runs would: the searcher does not crash, finds the
    best region (x near 0.3) and proposes the failing region far less often than random search (40 %)."""
    searcher, n = build(name, QUAD, mode="minimize", seed=2), budget(name)
    history = run(searcher, quad, n, fail=lambda p: p["x"] > 0.6)
    failures_late = sum(1 for p, r, _ in history[n // 2:] if r is None)
    assert failures_late <= 0.2 * (n - n // 2), failures_late
    assert min(r for _, r, _ in history if r is not None) < 0.01


def test_all_failures_then_recovery():
    for name in MODEL_BASED:
        searcher = build(name, QUAD, mode="maximize", seed=0)
        run(searcher, quad, 8, fail=lambda p: True)               # nothing has a reward yet
        history = run(searcher, quad, 8)
        assert len({canonical_key(p) for p, _, _ in history}) == 8


def test_failed_points_are_never_the_best():
    ev = build("EvolutionSearcher", QUAD, mode="maximize")
    run(ev, lambda p: p["x"], 10, fail=lambda p: p["x"] > 0.5)
    assert all(p["x"] <= 0.5 for p, _ in ev.population())
    tpe = build("TPESearcher", QUAD, mode="maximize")
    run(tpe, lambda p: p["x"], 12, fail=lambda p: p["x"] > 0.5)
    assert tpe.study.best_trial.params["x"] <= 0.5
    sk = build("SkoptSearcher", QUAD, mode="maximize")
    history = run(sk, lambda p: p["x"], 12, fail=lambda p: p["x"] > 0.5)
    xs, ys = sk._model_rows()
    worst = max(-r for _, r, _ in history if r is not None)        # skopt minimises -reward
    failed = [sk.encoding.encode(p) for p, r, _ in history if r is None]
    assert failed and all(ys[xs.index(x)] == pytest.approx(worst) for x in failed)


def test_skopt_parallel_slots_use_the_liar_not_random_fallback(monkeypatch):
    """With four jobs running, four suggestions in a row are four different points proposed by the model."""
    searcher = build("SkoptSearcher", QUAD, mode="minimize", seed=1)
    run(searcher, quad, 8)

    def no_fallback(*args, **kwargs):
        raise AssertionError("fell back to a random point")

    monkeypatch.setattr(skopt_searcher, "random_unissued", no_fallback)
    slots = []
    for _ in range(4):
        point = searcher.suggest()
        searcher.mark_issued(point)
        slots.append(point)
    assert len({canonical_key(p) for p in slots}) == 4
    assert len(searcher._obs.pending()) == 4


def test_tpe_parallel_slots_are_running_trials():
    from optuna.trial import TrialState
    searcher = build("TPESearcher", QUAD, mode="minimize", seed=1)
    run(searcher, quad, 12)
    slots = []
    for _ in range(3):
        slots.append(searcher.suggest())
        searcher.mark_issued(slots[-1])
    running = searcher.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    assert len(running) == 3 and len({canonical_key(p) for p in slots}) == 3
    searcher.observe(slots[1], 0.5)
    assert len(searcher.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))) == 2


@pytest.mark.parametrize("name", MODEL_BASED)
def test_resume_replays_the_store(name):
    """A restored searcher knows what the store holds: it continues as a model, not from scratch, and never
    repeats a configuration, including the one still running."""
    first = build(name, QUAD, mode="minimize", seed=5)
    history = run(first, quad, 20, fail=lambda p: p["x"] > 0.9)
    running = first.suggest()
    first.mark_issued(running)
    history.append((running, None, False))
    resumed = build(name, QUAD, mode="minimize", seed=6)
    resumed.restore(history)
    seen = {canonical_key(p) for p, _, _ in history}
    after = run(resumed, quad, 10)
    for point, _, _ in after:
        assert canonical_key(point) not in seen
        seen.add(canonical_key(point))
    # a fresh searcher would still be in its random start; the restored one already exploits the history
    assert sorted(quad(p) for p, _, _ in after)[5] < random_quartile()


def test_evolution_children_come_from_the_population():
    """After the initial population, every child shares each dimension with one of the parents or is a mutation;
    with mutate_prob 0, children are exact crossovers of population members."""
    space_args = [{"type": "Categorical", "name": f"c{i}", "data": list(range(10))} for i in range(4)]
    searcher = build("EvolutionSearcher", space_args, population_size=8, mutate_prob=0.0, seed=3)
    run(searcher, lambda p: sum(p.values()), 8)
    population = [p for p, _ in searcher.population()]
    for _ in range(5):
        child = searcher.suggest()
        searcher.mark_issued(child)
        for key in child:
            assert child[key] in {p[key] for p in population}
        searcher.observe(child, sum(child.values()))
        population = [p for p, _ in searcher.population()]


def test_finite_spaces_are_exhausted_exactly_once():
    args = [{"type": "Categorical", "name": "a", "data": ["x", "y", "z"]},
            {"type": "Nested", "data": [{"b": 1}, {"b": 2}]}]
    for name in MODEL_BASED:
        searcher = build(name, args, mode="maximize", seed=0)
        history = run(searcher, lambda p: random.random(), 6)
        assert len({canonical_key(p) for p, _, _ in history}) == 6
        assert searcher.suggest() is None, name


def test_skopt_surrogate_window_bounds_the_model():
    searcher = build("SkoptSearcher", QUAD, mode="minimize", max_model_points=40)
    rng = random.Random(0)
    points = [{"x": rng.random(), "y": rng.random()} for _ in range(300)]
    searcher.restore([(p, quad(p), True) for p in points])
    xs, ys = searcher._model_rows()
    assert len(xs) == 40
    best20 = sorted(quad(p) for p in points)[:20]
    assert sorted(ys)[:20] == pytest.approx(best20)                # the best half is kept
    assert xs[-1] == searcher.encoding.encode(points[-1])          # and the most recent ones


@pytest.mark.slow
def test_suggestion_latency_at_1000_trials():
    """Each searcher suggests within a CPU-time bound after 1,000 observed trials (default settings; the GP is
    fitted on a 64-point window). CPU time, so that other work on a shared machine does not count."""
    args = [{"type": "Real", "name": f"x{i}", "data": [0.0, 1.0]} for i in range(6)]
    rng = random.Random(0)
    space = parse_search_args(args)
    history = [(p, sum(v * v for v in p.values()), True) for p in (space.sample(rng) for _ in range(1000))]
    for kind, bound in (("SkoptSearcher", 2.0), ("TPESearcher", 0.5), ("EvolutionSearcher", 0.1)):
        searcher = SEARCHERS.build({"type": kind, "seed": 0}, "searcher", space=space, optimize_mode="minimize")
        start = time.process_time()
        searcher.restore(history)
        assert time.process_time() - start < 5.0, kind
        cpu = []
        for _ in range(3):
            start = time.process_time()
            point = searcher.suggest()
            cpu.append(time.process_time() - start)
            searcher.mark_issued(point)
        assert sorted(cpu)[1] < bound, (kind, cpu)


def test_config_errors_name_the_key():
    space = parse_search_args(QUAD)
    bad = [
        ({"type": "SkoptSearcher", "base_estimator": "SVM"}, "searcher.base_estimator"),
        ({"type": "SkoptSearcher", "acq_func": "UCB"}, "searcher.acq_func"),
        ({"type": "SkoptSearcher", "n_initial_points": -1}, "searcher.n_initial_points"),
        ({"type": "SkoptSearcher", "seed": 1, "random_state": 2}, "searcher.random_state"),
        ({"type": "EvolutionSearcher", "mutate_prob": 1.5}, "searcher.mutate_prob"),
        ({"type": "EvolutionSearcher", "population_size": 1}, "searcher.population_size"),
        ({"type": "EvolutionSearcher", "gen_trial_limit": 0}, "searcher.gen_trial_limit"),
        ({"type": "TPESearcher", "n_startup_trials": -3}, "searcher.n_startup_trials"),
        ({"type": "TPESearcher", "multivariate": "yes"}, "searcher.multivariate"),
        ({"type": "TPESearcher", "gamma": 0.2}, "searcher.gamma"),
        ({"type": "TPESearcher", "n_ei_candidates": 0}, "searcher.n_ei_candidates"),
        ({"type": "TPESearcher", "seed": "7"}, "searcher.seed"),
        ({"type": "RandomSearcher", "max_attempts": 0}, "searcher.max_attempts"),
        ({"type": "EvolutionSearcher", "mutate_scale": 0}, "searcher.mutate_scale"),
        ({"type": "SkoptSearcher", "acq_func_kwargs": [1]}, "searcher.acq_func_kwargs"),
    ]
    for cfg, path in bad:
        with pytest.raises(GmlConfigError) as err:
            SEARCHERS.build(cfg, "searcher", space=space, optimize_mode="maximize")
        assert err.value.path == path, (cfg, str(err.value))


def test_yaml_keywords_reach_skopt(tmp_path):
    """The searcher block of a search config builds a SkoptSearcher with skopt's keywords."""
    from gml.search.config.build import build_searcher
    from gml.search.config.search_config import parse_search_config
    raw = {"task": {"template": "python t.py --lr {lr} --bs {bs}",
                    "search_args": [{"type": "Real", "name": "lr", "data": [0.001, 0.1], "log": True},
                                    {"type": "Categorical", "name": "bs", "data": [32, 64]}]},
           "searcher": {"type": "SkoptSearcher", "optimize_mode": "minimize", "reward_attribute": "loss",
                        "base_estimator": "ET", "n_initial_points": 3, "acq_func": "EI",
                        "initial_point_generator": "lhs", "random_state": 7}}
    searcher = build_searcher(parse_search_config(raw, str(tmp_path)))
    assert searcher.optimize_mode == "minimize" and searcher.seed == 7
    opt = searcher._optimizer(0)
    assert type(opt.base_estimator_).__name__ == "ExtraTreesRegressor" and opt.acq_func == "EI"
    design = [p for p, _, _ in run(searcher, lambda p: p["lr"], 3)]
    assert design == searcher._design                               # the LHS design, in order
    assert searcher.space.contains(run(searcher, lambda p: p["lr"], 1)[0][0])


def test_importing_gml_search_does_not_import_the_libraries():
    import subprocess
    code = ("import sys, gml.search, gml.search.searchers, gml.search.config.build; "
            "print(sorted(m for m in ('skopt', 'optuna', 'numpy', 'sklearn', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_random_unissued_enumerates_a_nearly_full_space():
    space = parse_search_args([{"type": "Int", "name": "a", "data": [0, 99]}])
    issued = {canonical_key({"a": i}) for i in range(100) if i != 37}
    point = observations.random_unissued(space, random.Random(0), lambda p: canonical_key(p) in issued, attempts=5)
    assert point == {"a": 37}
    issued.add(canonical_key({"a": 37}))
    assert observations.random_unissued(space, random.Random(0), lambda p: canonical_key(p) in issued) is None


TRAIN = '''
import argparse, sys, yaml, gml
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float)
p.add_argument("--act")
p.add_argument("--layers", type=int)
p.add_argument("--cfg")
a = p.parse_args()
depth = yaml.safe_load(open(a.cfg))["model"]["depth"]
if a.lr > 0.1:
    sys.exit("diverged")                      # a failed job: no reward
loss = (a.lr - 0.01) ** 2 + 0.01 * a.layers + (0.0 if a.act == "gelu (tanh)" else 0.1) + depth / 1000
gml.report(step=0, loss=loss)
'''


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["SkoptSearcher", "TPESearcher", "EvolutionSearcher", "GPSearcher", "CMAESSearcher"])
def test_search_run_end_to_end(tmp_path, kind):
    """A real search-run: parallel slots, failing jobs, a File arg and non-numeric choices, minimised loss."""
    import os
    import subprocess

    import yaml
    (tmp_path / "train.py").write_text(TRAIN)
    (tmp_path / "config.yaml").write_text("model:\n  depth: 18\n")
    extra = {"SkoptSearcher": {"n_initial_points": 3}, "TPESearcher": {"n_startup_trials": 3},
             "EvolutionSearcher": {"population_size": 3}, "GPSearcher": {"n_startup_trials": 3},
             "CMAESSearcher": {"popsize": 3}}[kind]
    cfg = {"task": {"template": "python train.py --lr {lr} --act '{act}' --layers {layers} --cfg {config}",
                    "search_args": [
                        {"type": "Real", "name": "lr", "data": [0.001, 1.0], "log": True},
                        {"type": "Categorical", "name": "act", "data": ["relu", "gelu (tanh)"]},
                        {"type": "Int", "name": "layers", "data": [1, 4]},
                        {"type": "File", "name": "config", "file": "config.yaml",
                         "search_args": [{"type": "Categorical", "name": "model.depth", "data": [18, 34]}]}]},
           "searcher": {"type": kind, "reward_attribute": "loss", "optimize_mode": "minimize", "seed": 0, **extra},
           "scheduler": {"parallel_size": 2, "stop_criterion": {"max_tries": 8}}}
    (tmp_path / "search.yaml").write_text(yaml.safe_dump(cfg))
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    for argv in (["search-init"], ["search-run", "search.yaml", "-t", "t"],
                 ["search-ctl", "show", "-t", "t", "--out", "jobs.yaml"]):
        proc = subprocess.run([os.path.join(bin_dir, argv[0]), *argv[1:]], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300, env=env)
        assert proc.returncode == 0, proc.stderr
    data = yaml.safe_load((tmp_path / "jobs.yaml").read_text())
    jobs = data["jobs"]
    assert len(jobs) == 8
    succeeded = [j for j in jobs if j["status"] == "SUCCEEDED"]
    assert data["task"]["best"]["reward"] == min(j["reward"] for j in succeeded)
    keys = {(j["params"]["lr"], j["params"]["act"], j["params"]["layers"], j["params"]["config(model.depth)"])
            for j in jobs}
    assert len(keys) == 8
    for j in jobs:
        assert j["params"]["act"] in ("relu", "gelu (tanh)") and j["params"]["config(model.depth)"] in (18, 34)
        assert (j["status"] == "ERROR") == (j["params"]["lr"] > 0.1), j
        if j["status"] == "SUCCEEDED":
            assert j["reward"] == pytest.approx((j["params"]["lr"] - 0.01) ** 2 + 0.01 * j["params"]["layers"]
                                                + (0.0 if j["params"]["act"] == "gelu (tanh)" else 0.1)
                                                + j["params"]["config(model.depth)"] / 1000)
