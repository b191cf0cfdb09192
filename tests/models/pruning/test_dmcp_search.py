"""The subnet search over a DMCP supernet: its search space (the channel groups' bucket widths), the searcher that
walks the learnt Markov chains, the max / min / expected subnets reported in training and in the search, and
tools/search_subnet.py on a supernet trained on digits (FLOPs limit, Pareto front, retraining the best subnet)."""
import json
import os
import subprocess
import sys
from collections import Counter

import pytest
import yaml

torch = pytest.importorskip("torch")

from gml.errors import GmlConfigError  # noqa: E402
from gml.models.pruning.markov import keep_probs  # noqa: E402
from gml.models.pruning.markov_search import MarkovChainSearcher  # noqa: E402
from gml.models.space import flat_space, max_choice, min_choice, parse_space, random_choice  # noqa: E402
from gml.models.subnet_search import build_searcher  # noqa: E402

from ._fixtures import BOTTLENECK_RESNET, CONFIG, MOBILENET_V2, RESNET, ROOT, build_dmcp, run_tool  # noqa: E402

SMALL = {"a": parse_space(dict(type="Int", lower=1, upper=4)),
         "b": parse_space(dict(type="Categorical", data=[8, 16])), "c": parse_space(3)}


@pytest.mark.parametrize("model, width", [(RESNET, None), (BOTTLENECK_RESNET, None),
                                          (MOBILENET_V2, dict(max=1.5, min=0.3, offset=0.3))])
def test_the_search_space_is_every_groups_bucket_widths(model, width):
    import random

    mutator = build_dmcp(model, width=width).mutator
    space = mutator.search_space
    assert list(space) == mutator.group_names == flat_space(space).keys
    for name, layout in mutator.layouts.items():
        assert list(space[name].values) == layout.widths
    assert max_choice(space) == mutator.max_choice() and min_choice(space) == mutator.min_choice()
    rng = random.Random(0)
    for _ in range(5):
        choice = random_choice(space, rng)
        assert mutator.set_choice(choice) == choice == mutator.current_choice()


def test_markov_chain_searcher_draws_what_the_chains_give():
    space = flat_space(SMALL)
    sure = MarkovChainSearcher(space, seed=0, transitions={"a": [1, 1, 1], "b": [0.0]})
    assert all(sure.walk() == {"a": 4, "b": 8, "c": 3} for _ in range(20))
    half = MarkovChainSearcher(space, seed=1, transitions={"a": [0.5, 0.5, 0.5], "b": [1.0], "c": []})
    counts = Counter(half.walk()["a"] for _ in range(8000))
    for value, probability in {1: 0.5, 2: 0.25, 3: 0.125, 4: 0.125}.items():
        assert abs(counts[value] / 8000 - probability) < 0.02, counts
    # never twice the same point; the four reachable points, then nothing left
    points = []
    while (point := half.suggest()) is not None:
        half.mark_issued(point)
        points.append(point)
    assert sorted(p["a"] for p in points) == [1, 2, 3, 4] and all(p["b"] == 16 for p in points)


def test_the_searcher_walks_a_dmcp_supernets_learnt_chains():
    mutator = build_dmcp().mutator
    torch.manual_seed(0)
    with torch.no_grad():
        for alpha in mutator.alphas:
            alpha.uniform_(0, 1.5)
    searcher = build_searcher(mutator.search_space, dict(type="MarkovChainSearcher", seed=0,
                                                         transitions=mutator.markov_transitions()))
    walks = [searcher.walk() for _ in range(4000)]
    for name, layout in mutator.layouts.items():
        keep = keep_probs(mutator.alpha_of(name).detach()).tolist() + [0.0]
        expected = {layout.channels(0): 1 - keep[0]}
        expected.update({layout.channels(k + 1): keep[k] - keep[k + 1] for k in range(layout.num_buckets)})
        counts = Counter(walk[name] for walk in walks)
        for width, probability in expected.items():
            assert abs(counts[width] / 4000 - probability) < 0.03, (name, width)


@pytest.mark.parametrize("transitions, message", [
    (None, "--searcher.transitions: MarkovChainSearcher needs the transition probabilities"),
    ({"a": [0.5, 0.5]}, "--searcher.transitions.a: expected a list of 3 transition probabilities"),
    ({"a": [0.5] * 3, "b": [2]}, r"--searcher.transitions.b\[0\]: expected a probability in \[0, 1\], got 2"),
    ({"a": [0.5] * 3, "b": [1], "z": [1]}, "--searcher.transitions.z: not a dimension of the search space"),
    ("0.5", "--searcher.transitions: expected a mapping"),
])
def test_bad_transitions_name_their_key(transitions, message):
    cfg = dict(type="MarkovChainSearcher")
    if transitions is not None:
        cfg["transitions"] = transitions
    with pytest.raises(GmlConfigError, match=message):
        build_searcher(SMALL, cfg)


# --- on a supernet trained on digits by tools/train.py --------------------------------------------------------------
# 256 training images (8 iterations of 32 per epoch), 3 epochs, the architecture trained from iteration 4: about 30 s
# on one core, enough for the max, min and expected subnets to score differently.
TRAIN = ["data.train.max_samples=256", "data.val.max_samples=128", "data.test.max_samples=64",
         "data.samples_per_gpu=32", "log_config.interval=4", "lr_config.warmup_iters=2",
         "checkpoint_config.interval=3", "runner.max_epochs=3", "evaluation.interval=3",
         "algorithm.algorithm_cfg.arch_start_train=4", "algorithm.distill_iter=4",
         "search_eval_cfg.interval=3", "search_eval_cfg.bn_stats_calib_kwargs.num_iters=4"]
LIMIT = 3.5  # MFLOPs; the supernet spans 0.62 (min) .. 6.66 (max)


def _env(**extra):
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=ROOT)
    for key in ("GML_JOB_DIR", "GML_TASK", "GML_JOB_ID"):
        env.pop(key, None)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def supernet(tmp_path_factory):
    """(work_dir, config, checkpoint, scalars gml received) of a DMCP supernet trained on digits."""
    work = tmp_path_factory.mktemp("dmcp_search")
    job_dir = work / "job"
    job_dir.mkdir()
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "train.py"), CONFIG, "--work-dir",
                           str(work / "train"), "--seed", "3", "--cfg-options", *TRAIN], cwd=ROOT,
                          env=_env(GML_JOB_DIR=str(job_dir)), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    reported = [json.loads(line)["scalars"] for line in open(job_dir / "scalars.jsonl")]
    train = work / "train"
    return train, train / os.path.basename(CONFIG), train / "epoch_3.pth", reported


def _load(config, checkpoint):
    from mmcv import Config

    from gml.models.subnet import load_supernet
    return load_supernet(Config.fromfile(str(config)), str(checkpoint))


@pytest.mark.slow
def test_training_reports_the_max_min_and_expected_subnets(supernet):
    train, config, checkpoint, reported = supernet
    scores = [r for r in reported if "expected_accuracy_top-1" in r][-1]
    for name in ("max", "min", "expected"):
        assert {f"{name}_accuracy_top-1", f"{name}_flops", f"{name}_params"} <= set(scores)
    assert scores["max_flops"] > scores["expected_flops"] > scores["min_flops"] > 0
    algorithm = _load(config, checkpoint)   # the last evaluation ran on the final chains
    expected = algorithm.mutator.expected_choice()
    assert scores["expected_flops"] == pytest.approx(algorithm.mutator.flops_of(expected))
    summary = json.loads((train / "model_sample" / "summary.json").read_text())
    assert summary["expected"]["channels"] == expected
    log = open(sorted(train.glob("*.log.json"))[-1]).read()
    assert "expected.accuracy_top-1" in log and "min.flops" in log


@pytest.mark.slow
def test_markov_search_within_the_limit_gives_a_pareto_front_and_a_retrainable_best(supernet, tmp_path):
    train, config, checkpoint, _ = supernet
    out = tmp_path / "search"
    proc = run_tool("search_subnet.py", str(config), str(checkpoint), "--work-dir", str(out), "--flops-limit",
                    str(LIMIT), "--searcher", "MarkovChainSearcher", "--num-candidates", "8", "--batch-size", "4",
                    "--calib-iters", "2", "--cfg-options", "data.train.max_samples=256", "data.val.max_samples=128")
    assert "[search] reference expected: top-1" in proc.stdout and "Pareto front (top-1 vs flops" in proc.stdout

    algorithm = _load(config, checkpoint)
    mutator = algorithm.mutator
    modules = dict(mutator.classifier.named_modules())
    lines = [json.loads(line) for line in open(out / "candidates.jsonl")]
    searched = [c for c in lines if c["reference"] is None]
    assert len(searched) == 8 and len({json.dumps(c["choice"], sort_keys=True) for c in lines}) == len(lines)
    for cand in lines:
        choice = cand["choice"]
        assert all(choice[name] in mutator.search_space[name] for name in mutator.group_names)
        assert cand["cost"] <= LIMIT and cand["metrics"]["flops"] == pytest.approx(mutator.flops_of(choice))
        mutator.set_choice(choice)
        for group in mutator.groups:   # residual-tied convs all run at the group's one width
            assert {modules[p].active_out_channels for p in group.producers} == {choice[group.name]}

    references = yaml.safe_load(open(out / "references.yaml"))
    assert [r["name"] for r in references] == ["max", "min", "expected"]
    by_name = {r["name"]: r for r in references}
    assert by_name["max"]["within_limit"] is False and by_name["min"]["within_limit"] is True
    assert yaml.safe_load(open(by_name["expected"]["subnet"]))["channels"] == mutator.expected_choice()
    assert by_name["min"]["flops"] == pytest.approx(mutator.flops_of(mutator.min_choice()))

    front = yaml.safe_load(open(out / "pareto.yaml"))
    assert front and [e["flops"] for e in front] == sorted(e["flops"] for e in front)
    assert all(a["score"] < b["score"] for a, b in zip(front, front[1:]))
    for entry in front:   # no candidate is at most as costly and more accurate than a front member
        assert not any(c["cost"] <= entry["flops"] and c["score"] > entry["score"] for c in lines)
    for cand in lines:    # and every candidate is matched or beaten by one
        assert any(e["flops"] <= cand["cost"] and e["score"] >= cand["score"] for e in front)
    best = yaml.safe_load(open(out / "best_subnet.yaml"))["channels"]
    assert best == max(lines, key=lambda c: (c["score"], -c["cost"]))["choice"]

    retrain = tmp_path / "retrain"
    run_tool("train.py", CONFIG, "--work-dir", str(retrain), "--seed", "0", "--no-validate", "--cfg-options",
             "data.train.max_samples=64", "data.samples_per_gpu=32", "runner.max_epochs=1",
             "lr_config.warmup_iters=1", "checkpoint_config.interval=1", "algorithm.retraining=True",
             f"algorithm.channel_cfg={out / 'best_subnet.yaml'}")
    state = torch.load(retrain / "epoch_1.pth", map_location="cpu", weights_only=False)["state_dict"]
    for group in mutator.groups:   # the retrained network has the searched widths
        key = group.producers[0].replace("backbone.", "model.backbone.", 1) + ".weight"
        assert state[key].shape[0] == best[group.name], group.name


def _search_main(argv):
    """tools/search_subnet.py's entry point as its ``__main__`` runs it (user errors: message and exit code)."""
    from gml.cli.common import user_errors
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    try:
        import search_subnet
    finally:
        sys.path.pop(0)
    return user_errors("search_subnet.py")(search_subnet.main)(argv)


@pytest.mark.slow
@pytest.mark.parametrize("options, message", [
    (["--flops-limit", "-1"], "--flops-limit: expected a number > 0, got -1.0"),
    (["--calib-iters", "0"], "--calib-iters: expected -1 (the whole split) or a count >= 1, got 0"),
    (["--num-candidates", "0"], "--num-candidates: expected an integer >= 1, got 0"),
    (["--cfg-options", "algorithm.retraining=True"], "algorithm.retraining: a retrained pruned network"),
    (["--searcher", "MarkovChainSearcher", "--searcher-options", "transitions=0.5"],
     "--searcher.transitions: expected a mapping"),
])
def test_bad_input_exits_2_naming_the_option(supernet, tmp_path, capsys, options, message):
    _, config, checkpoint, _ = supernet
    assert _search_main([str(config), str(checkpoint), "--work-dir", str(tmp_path), *options]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_bad_input_in_a_real_process_exits_2_without_a_traceback(supernet, tmp_path):
    _, config, checkpoint, _ = supernet
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "search_subnet.py"), str(config),
                           str(checkpoint), "--work-dir", str(tmp_path), "--flops-limit", "0"], cwd=ROOT,
                          env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "--flops-limit: expected a number > 0, got 0.0" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_markov_search_as_a_gml_task(supernet, tmp_path):
    """--task: the controller builds MarkovChainSearcher from the task config (importable type, the supernet's
    chains as plain data) and runs each candidate as a job of this tool."""
    from gml.search.task.workspace import init_workspace

    _, config, checkpoint, _ = supernet
    project = tmp_path / "project"
    project.mkdir()
    init_workspace(str(project))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "search_subnet.py"), str(config),
                           str(checkpoint), "--task", "dmcp", "--work-dir", str(tmp_path / "out"), "--flops-limit",
                           str(LIMIT), "--searcher", "MarkovChainSearcher", "--num-candidates", "2", "--parallel", "1",
                           "--calib-iters", "2", "--cfg-options", "data.train.max_samples=256",
                           "data.val.max_samples=128"], cwd=project, env=_env(), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    task_cfg = yaml.safe_load(open(project / ".search-run" / "subnet_search_dmcp.yaml"))
    assert task_cfg["searcher"]["type"] == "gml.models.pruning.markov_search.MarkovChainSearcher"
    mutator = _load(config, checkpoint).mutator
    assert task_cfg["searcher"]["transitions"] == mutator.markov_transitions()
    lines = [json.loads(line) for line in open(tmp_path / "out" / "candidates.jsonl")]
    searched = [c for c in lines if c["reference"] is None]
    assert len(searched) == 2 and all(c["cost"] <= LIMIT for c in lines)
    for cand in searched:
        assert cand["cost"] == pytest.approx(mutator.flops_of(cand["choice"]))


@pytest.mark.slow
def test_test_tool_scores_a_structure_inside_the_supernet_like_the_search_tool(supernet, tmp_path):
    """tools/test.py on the DMCP supernet checkpoint with algorithm.channel_cfg tests that structure after
    recalibrating its BatchNorm statistics, scoring it as tools/search_subnet.py --eval-subnet does."""
    train, config, checkpoint, _ = supernet
    algorithm = _load(config, checkpoint)
    structure = algorithm.mutator.dump(str(tmp_path / "expected.yaml"), algorithm.mutator.expected_choice())
    run_tool("search_subnet.py", str(config), str(checkpoint), "--eval-subnet", structure, "--calib-iters", "3",
             "--result", str(tmp_path / "searched.json"))
    searched = json.loads((tmp_path / "searched.json").read_text())
    proc = run_tool("test.py", str(config), str(checkpoint), "--calib-iters", "3", "--out", str(tmp_path / "t.json"),
                    "--cfg-options", f"algorithm.channel_cfg={structure}", "data.test.max_samples=128")
    assert "recalibrated the tested subnet's BatchNorm statistics on 3 training batches" in proc.stdout
    tested = json.loads((tmp_path / "t.json").read_text())["metrics"]
    assert tested["accuracy_top-1"] == pytest.approx(searched["accuracy_top-1"])
