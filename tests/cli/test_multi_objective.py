"""Multi-objective search end to end: real jobs report accuracy and a parameter count, NSGA2Searcher searches
both, search-ctl show-scalar --pareto prints the front; a single-objective searcher refuses the list."""
import textwrap

JOB = textwrap.dedent('''
    """A model whose accuracy grows with its width (less with noise) and whose size is proportional to it."""
    import argparse
    import gml
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int)
    p.add_argument("--noise", type=int)
    a = p.parse_args()
    for epoch in range(2):
        gml.report(step=epoch, acc=(1 - 1 / (a.width + 1)) * (0.5 if a.noise else 1) * (epoch + 1) / 2,
                   params=1000 * a.width)
''')
SPACE = [{"type": "Categorical", "name": "width", "data": [1, 2, 4, 8]},
         {"type": "Categorical", "name": "noise", "data": [0, 1]}]
OBJECTIVES = {"reward_attribute": ["acc", "params"], "optimize_mode": ["maximize", "minimize"]}


def test_nsga2_runs_a_two_objective_search_and_search_ctl_prints_its_pareto_front(project):
    (project.root / "model.py").write_text(JOB)
    cfg = project.write_config("python model.py --width {width} --noise {noise}", SPACE, scalars=["acc"],
                               searcher=dict(type="NSGA2Searcher", seed=0, population_size=4, **OBJECTIVES),
                               scheduler={"parallel_size": 2})
    run = project.cli("search-run", cfg, "-t", "mo", check=0)
    assert "FINISHED" in run.stderr
    jobs = project.jobs("mo")["jobs"]
    assert len(jobs) == 8 and all(j["status"] == "SUCCEEDED" for j in jobs)
    assert all(sorted(j["scalars"]) == ["acc", "params"] for j in jobs)    # both objectives are collected
    front = project.cli("search-ctl", "show-scalar", "-t", "mo", "--pareto", check=0).stdout.splitlines()
    assert front[0] == "Pareto front of mo: 4 of 8 jobs with every objective"
    assert front[1].split() == ["id", "acc", "(max)", "params", "(min)", "width", "noise"]
    rows = [line.split() for line in front[3:]]
    assert [(int(r[-2]), int(r[-1])) for r in rows] == [(8, 0), (4, 0), (2, 0), (1, 0)]   # best acc first
    assert [float(r[1]) for r in rows] == [round(1 - 1 / 9, 6), 0.8, round(2 / 3, 6), 0.5]
    single = project.cli("search-ctl", "show-scalar", "-t", "mo", "-rt", "+1", check=0).stdout
    assert "8" in single.splitlines()[2]      # -rt ranks by the first objective


def test_a_single_objective_searcher_refuses_a_list_and_pareto_needs_one(project):
    cfg = project.write_config("python train.py --lr {width} --bs {noise}", SPACE,
                               searcher=dict(type="CMAESSearcher", **OBJECTIVES))
    run = project.cli("search-run", cfg, "-t", "one", check=2)
    assert run.stderr.strip() == ("search-run: error: searcher.reward_attribute: CMAESSearcher optimises one "
                                  "objective, got 2 (acc, params); give one reward_attribute, or use a "
                                  "multi-objective searcher: NSGA2Searcher, TPESearcher")
    cfg = project.write_config("python train.py --lr {width} --bs {noise}", SPACE,
                               scheduler={"stop_criterion": {"max_tries": 1}})
    project.cli("search-run", cfg, "-t", "single", check=0)
    pareto = project.cli("search-ctl", "show-scalar", "-t", "single", "--pareto", check=2)
    assert "--pareto: task 'single' has one objective (acc)" in pareto.stderr
