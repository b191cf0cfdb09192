"""The subnet search (evolution / random under a cost limit) and the search / export tools on a real supernet."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
import yaml

from gml.errors import GmlConfigError
from gml.models.space import parse_space
from gml.models.subnet_search import SubnetSearcher

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

SPACE = {"net": parse_space({"w": [dict(type="Categorical", data=[1, 2, 3, 4])] * 4,
                             "d": dict(type="Int", lower=1, upper=4)})}


def _cost(choice):
    return float(sum(choice["net"]["w"]) * choice["net"]["d"])


def _score_batch(calls):
    def score(choices):
        calls.append(len(choices))
        # prefers wide first layers and depth 3: a landscape with one optimum under the limit
        return [(sum(c["net"]["w"][:2]) * 10 - abs(c["net"]["d"] - 3), {"flops": _cost(c)}) for c in choices]
    return score


def test_evolution_respects_limit_improves_and_returns_pareto_front():
    calls = []
    searcher = SubnetSearcher(SPACE, _cost, _score_batch(calls), limit=24, population_size=8, generations=4,
                              num_parents=3, mutation_prob=0.3, seed=1)
    result = searcher.run()
    assert all(c.cost <= 24 for c in result.candidates)
    assert len({json.dumps(c.choice, sort_keys=True) for c in result.candidates}) == len(result.candidates)
    assert calls[0] == 8 and len(calls) == 5
    first_best = max(c.score for c in result.candidates if c.generation == 0)
    assert result.best.score >= first_best
    front = result.pareto_front()
    assert [c.cost for c in front] == sorted(c.cost for c in front)
    assert all(a.score < b.score for a, b in zip(front, front[1:]))
    for cand in result.scored:   # nothing is both cheaper-or-equal and better than a front member
        assert not any(o.cost <= cand.cost and o.score > cand.score for o in result.scored) or cand not in front


def test_random_strategy_and_bad_settings():
    calls = []
    result = SubnetSearcher(SPACE, _cost, _score_batch(calls), limit=10, strategy="random", num_candidates=6,
                            seed=0).run()
    assert len(result.scored) == 6 and all(c.cost <= 10 for c in result.candidates)
    with pytest.raises(GmlConfigError, match="strategy"):
        SubnetSearcher(SPACE, _cost, _score_batch(calls), strategy="grid")


TOY_CONFIG = """
_C = lambda d: dict(type='Categorical', data=d)
model = dict(
    type='gml.ImageClassifierSearch',
    backbone=dict(type='gml.MobileNetV3Slice',
        search_space=dict(MB_stage_blocks=[1, dict(type='Categorical', data=[1, 2]), 1],
                          MB_kernel_size=[3, dict(type='Categorical', data=[3, 5]), 1],
                          MB_expand_ratio=[1, dict(type='Categorical', data=[3, 4]), 4],
                          MB_out_channels=[dict(type='Categorical', data=[8, 16]), dict(type='Categorical', data=[16, 24]), 32]),
        stage_strides=[2], stage_se=[True], stage_act=['HSwish'], stem_stride=1),
    neck=dict(type='mmcls.GlobalAveragePooling'),
    head=dict(type='gml.LinearClsHeadV2', num_classes=10, in_channels=1, distiller_mode='soft',
              loss=dict(type='mmcls.CrossEntropyLoss'), topk=(1, 5)),
    resize_process=dict(type='ResizeSlice', resolution=dict(type='Categorical', data=[12, 16])),
    connect_head=dict(in_channels='backbone.feat_dim'))
algorithm = dict(type='gml.BigNAS', model=model, strategy='sandwich3', mutator=dict(type='gml.StatelessMutator'))
norm = dict(mean=[77.8] * 3, std=[82.4] * 3, to_rgb=False)
pipe = [dict(type='Normalize', **norm), dict(type='ImageToTensor', keys=['img']), dict(type='Collect', keys=['img'])]
digits = dict(type='gml.DigitsDataset', image_size=16, channels=3, val_fraction=0.2, split_seed=0)
data = dict(samples_per_gpu=128, workers_per_gpu=0,
            train=dict(split='train', pipeline=pipe, **digits),
            val=dict(split='val', pipeline=pipe, **digits), test=dict(split='val', pipeline=pipe, **digits))
optimizer_config = None
search_eval_cfg = dict(type='DynamicDistEvalHook', evaluator=dict(type='NaiveEvaluator', units='M', default_shape=(1, 3, 16, 16)))
"""


TOY_TRAINING = """
train_pipe = [dict(type='Normalize', **norm), dict(type='ImageToTensor', keys=['img']),
              dict(type='ToTensor', keys=['gt_label']), dict(type='Collect', keys=['img', 'gt_label'])]
data['train']['pipeline'] = train_pipe
optimizer = dict(type='SGD', lr=0.1, momentum=0.9)
lr_config = dict(policy='fixed')
runner = dict(type='EpochBasedRunner', max_epochs=1)
checkpoint_config = dict(interval=1)
evaluation = dict(interval=1, metric='accuracy')
log_config = dict(interval=5, hooks=[dict(type='TextLoggerHook')])
log_level = 'INFO'
workflow = [('train', 1)]
dist_params = dict(backend=None)
search_eval_cfg['bn_stats_calib_kwargs'] = dict(num_iters=2)
"""


@pytest.fixture(scope="module")
def trained_supernet(tmp_path_factory):
    """A toy supernet trained one epoch on digits 16x16 by tools/train.py (sandwich3 steps, the
    DynamicDistEvalHook evaluating max/min and reporting to gml), saved as an mmcv checkpoint."""
    work = tmp_path_factory.mktemp("supernet")
    config = work / "toy_bignas.py"
    config.write_text(TOY_CONFIG + TOY_TRAINING)
    job_dir = work / "job"
    job_dir.mkdir()
    saved = os.environ.get("GML_JOB_DIR")
    os.environ["GML_JOB_DIR"] = str(job_dir)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert _run_tool("train", [str(config), "--work-dir", str(work / "train"), "--seed", "0"]) == 0
    finally:
        torch.set_num_threads(threads)
        if saved is None:
            os.environ.pop("GML_JOB_DIR")
        else:
            os.environ["GML_JOB_DIR"] = saved
    reported = [json.loads(line)["scalars"] for line in open(job_dir / "scalars.jsonl")]
    return str(config), str(work / "train" / "epoch_1.pth"), work, reported


def test_training_reports_max_and_min_subnets_after_recalibration(trained_supernet):
    _, _, work, reported = trained_supernet
    subnet_scalars = [r for r in reported if "max_accuracy_top-1" in r]
    assert subnet_scalars, reported
    scores = subnet_scalars[-1]
    assert {"max_flops", "max_params", "min_accuracy_top-1", "min_flops", "min_params"} <= set(scores)
    assert scores["max_flops"] > scores["min_flops"] > 0 and scores["max_params"] > scores["min_params"]
    log = open(next(p for p in (work / "train").iterdir() if p.suffix == ".json")).read()
    assert "max.accuracy_top-1" in log and "min.flops" in log


def _run_tool(name, argv):
    sys.path.insert(0, osp.join(ROOT, "tools"))
    try:
        module = __import__(name)
        return module.main(argv)
    finally:
        sys.path.pop(0)


@pytest.mark.slow
def test_search_then_export_gives_the_same_accuracy_in_plain_mmcls(trained_supernet, capsys):
    config, checkpoint, work, _ = trained_supernet
    out = str(work / "search")
    assert _run_tool("search_subnet", [config, checkpoint, "--work-dir", out, "--flops-limit", "0.5",
                                       "--population-size", "4", "--generations", "1", "--num-parents", "2",
                                       "--calib-iters", "3"]) == 0
    best = yaml.safe_load(open(osp.join(out, "best_subnet.yaml")))
    assert set(best) == {"backbone", "resize_process"}
    pareto = yaml.safe_load(open(osp.join(out, "pareto.yaml")))
    assert pareto and all(entry["flops"] <= 0.5 for entry in pareto)
    lines = [json.loads(line) for line in open(osp.join(out, "candidates.jsonl"))]
    best_line = max(lines, key=lambda c: c["score"])
    assert best_line["choice"] == best
    capsys.readouterr()
    assert _run_tool("export_subnet", [config, checkpoint, osp.join(out, "best_subnet.yaml"), "--out-dir",
                                       str(work / "export"), "--calib-iters", "3", "--eval"]) == 0
    scores = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert scores["supernet_subnet"]["accuracy_top-1"] == pytest.approx(best_line["score"])
    assert scores["exported_plain_mmcls"]["accuracy_top-1"] == pytest.approx(
        scores["supernet_subnet"]["accuracy_top-1"])


def test_test_tool_recalibrates_a_supernet_subnet_like_the_search_tool(trained_supernet, capsys):
    """tools/test.py on the supernet checkpoint with algorithm.mutable_cfg recalibrates that subnet's BatchNorm
    statistics on the training split and scores it as tools/search_subnet.py --eval-subnet does: both on the
    config's search_eval_cfg.bn_stats_calib_kwargs.num_iters batches (2) unless --calib-iters says otherwise."""
    config, checkpoint, work, _ = trained_supernet
    subnet = work / "min_subnet.yaml"
    from gml.models.builder import load_config
    from gml.models.checkpoint import safe_torch_load
    from gml.models.subnet import load_supernet

    supernet = load_supernet(load_config(config), checkpoint)
    assert safe_torch_load(checkpoint)["meta"]["config"]  # tools/train.py records its config
    supernet.mutator.dump(str(subnet), supernet.mutator.min_choice())
    result = work / "min_subnet.json"
    assert _run_tool("search_subnet", [config, checkpoint, "--eval-subnet", str(subnet), "--result", str(result)]) == 0
    searched = json.load(open(result))

    capsys.readouterr()
    tested = {}
    for policy in ("auto", "never"):
        out = work / f"test_{policy}.json"
        assert _run_tool("test", [config, checkpoint, "--out", str(out), "--bn-calib", policy, "--cfg-options",
                                  f"algorithm.mutable_cfg={subnet}"]) == 0
        tested[policy] = (json.load(open(out))["metrics"], capsys.readouterr().out)
    # the config's num_iters=2 for both tools
    assert "recalibrated the tested subnet's BatchNorm statistics on 2 training batches" in tested["auto"][1]
    for metric in ("accuracy_top-1", "accuracy_top-5"):
        assert tested["auto"][0][metric] == pytest.approx(searched[metric]), metric
    assert "recalibrated" not in tested["never"][1]
    assert tested["never"][0] != pytest.approx(tested["auto"][0])  # the supernet's statistics fit no subnet

    # the command line wins: 1,437 training images at 128 a batch, -1 takes all 12
    out = work / "test_all.json"
    assert _run_tool("test", [config, checkpoint, "--out", str(out), "--calib-iters", "-1", "--cfg-options",
                              f"algorithm.mutable_cfg={subnet}"]) == 0
    assert "recalibrated the tested subnet's BatchNorm statistics on 12 training batches" in capsys.readouterr().out


@pytest.mark.parametrize("tool, option, message", [
    ("test.py", "search_eval_cfg.bn_stats_calib_kwargs.num_iters=0",
     "search_eval_cfg.bn_stats_calib_kwargs.num_iters: expected -1 (the whole split) or a count >= 1, got 0"),
    ("search_subnet.py", "search_eval_cfg.bn_stats_calib_kwargs.num_iter=3",
     "search_eval_cfg.bn_stats_calib_kwargs.num_iter: unknown key (value 3); valid keys: num_iters, sync_params"),
])
def test_bad_calibration_settings_are_config_errors_in_both_tools(trained_supernet, tmp_path, tool, option, message):
    """A bad search_eval_cfg.bn_stats_calib_kwargs stops tools/test.py and tools/search_subnet.py (real processes)
    with exit code 2, the key path, the value and the expectation, and no traceback."""
    config, checkpoint, _, _ = trained_supernet
    extra = ["--out", str(tmp_path / "t.json")] if tool == "test.py" else ["--flops-limit", "1"]
    proc = subprocess.run([sys.executable, osp.join(ROOT, "tools", tool), config, checkpoint, *extra,
                           "--work-dir", str(tmp_path / "w"), "--cfg-options", option],
                          cwd=ROOT, env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=ROOT), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_calibration_settings_resolve_in_one_place():
    """--calib-iters wins when given; else the config's num_iters; else the whole split. Both are checked."""
    from mmcv import Config

    from gml.models.bn_calib_settings import BNCalibSettings, calib_settings, resolve_calib_iters

    configured = Config(dict(search_eval_cfg=dict(bn_stats_calib_kwargs=dict(num_iters=5, sync_params=False))))
    assert calib_settings(configured) == BNCalibSettings(num_iters=5, sync_params=False)
    assert resolve_calib_iters(configured, None) == 5
    assert resolve_calib_iters(configured, 3) == 3 and resolve_calib_iters(configured, -1) == -1
    assert resolve_calib_iters(Config(dict()), None) == -1
    assert resolve_calib_iters(Config(dict(search_eval_cfg=None)), None) == -1
    with pytest.raises(GmlConfigError, match="--calib-iters: expected -1"):
        resolve_calib_iters(configured, -2)
    for kwargs, path in [(dict(num_iters=True), "num_iters"), (dict(sync_params=1), "sync_params"),
                         (dict(num_iters="4"), "num_iters"), (dict(num_iters=2.5), "num_iters")]:
        with pytest.raises(GmlConfigError, match=f"search_eval_cfg.bn_stats_calib_kwargs.{path}: expected"):
            calib_settings(Config(dict(search_eval_cfg=dict(bn_stats_calib_kwargs=kwargs))))
    with pytest.raises(GmlConfigError, match="search_eval_cfg.bn_stats_calib_kwargs: expected a dict"):
        calib_settings(Config(dict(search_eval_cfg=dict(bn_stats_calib_kwargs=[4]))))

    # training reads the same settings: DynamicDistEvalHook refuses what the tools refuse
    from mmcv.utils import build_from_cfg

    from gml.models.registry import HOOKS
    hook = build_from_cfg(dict(type="DynamicDistEvalHook", dataloader=[], bn_stats_calib_kwargs=dict(num_iters=3)),
                          HOOKS)
    assert (hook.calib_iters, hook.sync_params) == (3, True)
    with pytest.raises(GmlConfigError, match="search_eval_cfg.bn_stats_calib_kwargs.iters: unknown key"):
        build_from_cfg(dict(type="DynamicDistEvalHook", dataloader=[], bn_stats_calib_kwargs=dict(iters=3)), HOOKS)


def test_test_tool_keeps_the_statistics_of_a_subnet_trained_alone(trained_supernet, tmp_path, capsys):
    """A checkpoint trained with algorithm.mutable_cfg (the subnet retrained alone) holds that subnet's own
    statistics: tools/test.py tests it as it is."""
    config, checkpoint, work, _ = trained_supernet
    from gml.models.builder import load_config
    from gml.models.subnet import load_supernet

    supernet = load_supernet(load_config(config), checkpoint)
    subnet = supernet.mutator.dump(str(tmp_path / "min.yaml"), supernet.mutator.min_choice())
    fixed = [f"algorithm.mutable_cfg={subnet}"]
    assert _run_tool("train", [config, "--work-dir", str(tmp_path / "retrain"), "--seed", "0", "--no-validate",
                               "--cfg-options", "data.train.max_samples=256", *fixed]) == 0
    retrained = str(tmp_path / "retrain" / "epoch_1.pth")
    capsys.readouterr()
    scores = {}
    for policy in ("auto", "never"):
        out = tmp_path / f"{policy}.json"
        assert _run_tool("test", [config, retrained, "--out", str(out), "--bn-calib", policy,
                                  "--cfg-options", *fixed]) == 0
        scores[policy] = json.load(open(out))["metrics"]
    printed = capsys.readouterr().out
    assert "BatchNorm statistics kept: the checkpoint trained one network" in printed and "recalibrated" not in printed
    assert scores["auto"] == scores["never"]


def test_trained_one_network_reads_the_recorded_training_config():
    """A checkpoint that trained a fixed subnet (mutable_cfg) or a retrained network keeps its statistics."""
    from mmcv import Config

    from gml.models.subnet_test import trained_one_network

    def meta(**algorithm):
        return dict(config=Config(dict(algorithm=dict(type="gml.BigNAS", model=dict(type="x"), **algorithm),
                                       data=dict(samples_per_gpu=2))).pretty_text)

    assert trained_one_network(meta()) is False
    assert trained_one_network(meta(mutable_cfg=None)) is False
    assert trained_one_network(meta(mutable_cfg="work_dirs/search/best_subnet.yaml")) is True
    assert trained_one_network(meta(mutable_cfg=dict(backbone=dict(blocks=[1, 2])))) is True
    assert trained_one_network(meta(retraining=True, channel_cfg="s.yaml")) is True
    assert trained_one_network(meta(retraining=False)) is False
    assert trained_one_network({}) is None and trained_one_network(None) is None
    assert trained_one_network(dict(config="model = dict(type='x')")) is None  # no algorithm recorded


@pytest.mark.slow
def test_candidates_scored_in_parallel_as_gml_jobs(trained_supernet):
    config, checkpoint, work, _ = trained_supernet
    out = str(work / "search_jobs")
    assert _run_tool("search_subnet", [config, checkpoint, "--work-dir", out, "--strategy", "random",
                                       "--num-candidates", "2", "--calib-iters", "2", "--launcher", "local",
                                       "--parallel", "2"]) == 0
    jobs = sorted(os.listdir(osp.join(out, "jobs")))
    assert jobs == ["1", "2"]
    for job in jobs:
        scalars = [json.loads(line) for line in open(osp.join(out, "jobs", job, "scalars.jsonl"))]
        assert set(scalars[0]["scalars"]) == {"acc", "flops", "params"}
        result = json.load(open(osp.join(out, "jobs", job, "result.json")))
        assert scalars[0]["scalars"]["acc"] == pytest.approx(result["accuracy_top-1"])


@pytest.mark.slow
def test_search_tool_with_a_registered_searcher_on_a_real_supernet(trained_supernet):
    config, checkpoint, work, _ = trained_supernet
    out = str(work / "search_tpe")
    assert _run_tool("search_subnet", [config, checkpoint, "--work-dir", out, "--flops-limit", "0.5",
                                       "--searcher", "TPESearcher", "--searcher-options", "n_startup_trials=2",
                                       "--num-candidates", "4", "--batch-size", "2", "--calib-iters", "2"]) == 0
    lines = [json.loads(line) for line in open(osp.join(out, "candidates.jsonl"))]
    searched = [c for c in lines if c["reference"] is None]   # the others: max / min, scored before the search
    assert len(searched) == 4 and all(c["metrics"]["flops"] <= 0.5 for c in lines)
    assert len({json.dumps(c["choice"], sort_keys=True) for c in lines}) == len(lines)
    assert {c["reference"] for c in lines} - {None} <= {"min"}   # max is over the limit
    proc = subprocess.run([sys.executable, osp.join(ROOT, "tools", "search_subnet.py"), config, checkpoint,
                           "--work-dir", str(work / "search_bad"), "--flops-limit", "0.5", "--searcher", "Nope"],
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=ROOT))
    assert proc.returncode == 2 and "--searcher.type: unknown searcher 'Nope'" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_subnet_search_task_survives_kill_9_and_resumes_without_rescoring(trained_supernet, tmp_path):
    """The search as a gml task: the controller (the tool's process) is killed -9 after the first job finished;
    --resume finishes the task and no finished candidate runs again."""
    import signal
    import subprocess
    import time

    from gml.search.task.jobs import JobStatus
    from gml.search.task.lifecycle import open_store
    from gml.search.task.workspace import TaskPaths, init_workspace

    config, checkpoint, work, _ = trained_supernet
    project = tmp_path / "project"
    project.mkdir()
    init_workspace(str(project))
    command = [sys.executable, osp.join(ROOT, "tools", "search_subnet.py"), config, checkpoint, "--task", "sub",
               "--work-dir", str(tmp_path / "out"), "--flops-limit", "0.5", "--searcher", "RandomSearcher",
               "--num-candidates", "3", "--parallel", "1", "--calib-iters", "2"]
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    paths = TaskPaths(str(project), "sub")

    def finished():
        if not paths.exists():
            return []
        store = open_store(paths)
        try:
            return [(j.id, j.end_time) for j in store.jobs([JobStatus.SUCCEEDED])]
        finally:
            store.close()

    deadline = time.time() + 240
    while not finished() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
    before = finished()
    assert before and proc.poll() is None, "the first candidate should finish while the search goes on"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    resumed = subprocess.run(command + ["--resume"], cwd=project, env=env, capture_output=True, text=True,
                             timeout=400)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    after = dict(finished())
    assert len(after) == 3 and all(after[job_id] == end for job_id, end in before)
    store = open_store(paths)
    try:
        jobs = store.jobs()
        assert len({json.dumps(j.point, sort_keys=True) for j in jobs}) == len(jobs)
        launched = [j for j in jobs if j.status != JobStatus.FILTERED]
        assert all(store.scalars(j.id, "flops")[-1][2] <= 0.5 for j in launched if j.status == JobStatus.SUCCEEDED)
    finally:
        store.close()
    lines = [json.loads(line) for line in open(tmp_path / "out" / "candidates.jsonl")]
    assert len([c for c in lines if c["reference"] is None]) == 3 and all(c["cost"] <= 0.5 for c in lines)


def _registered_searchers():
    import gml.search.searchers  # noqa: F401
    from gml.registry import SEARCHERS
    # MarkovChainSearcher walks given chains (a DMCP supernet's): tests/models/pruning/test_dmcp_search.py
    return [name for name in SEARCHERS.names if name not in ("BatchSearcher", "GridSearcher", "MarkovChainSearcher")]


@pytest.mark.parametrize("name", _registered_searchers())
def test_every_registered_searcher_returns_valid_subnets_within_the_limit(name):
    from gml.models.space import validate_choice
    from gml.models.subnet_search import build_searcher
    calls = []
    searcher = build_searcher(SPACE, {"type": name, "seed": 3})
    result = SubnetSearcher(SPACE, _cost, _score_batch(calls), limit=24, searcher=searcher,
                            num_candidates=12, batch_size=4).run()
    assert len(result.scored) == 12 and calls == [4, 4, 4]
    for cand in result.candidates:
        assert validate_choice(SPACE, cand.choice, "subnet") == cand.choice and cand.cost <= 24
    assert len({json.dumps(c.choice, sort_keys=True) for c in result.candidates}) == 12


def test_nas_evolution_preset_scores_a_generation_per_batch():
    from gml.models.subnet_search import build_searcher
    calls = []
    searcher = build_searcher(SPACE, {"type": "NASEvolutionSearcher", "seed": 0, "population_size": 6,
                                      "generations": 3, "num_parents": 3, "num_mutation": 2, "num_crossover": 2})
    assert searcher.budget == 14
    result = SubnetSearcher(SPACE, _cost, _score_batch(calls), limit=24, searcher=searcher,
                            num_candidates=searcher.budget).run()
    assert calls == [6, 4, 4] and len(result.scored) == 14
    defaults = build_searcher(SPACE, {"type": "NASEvolutionSearcher"})
    assert (defaults.budget, defaults.num_parents, defaults.mutate_prob) == (1000, 10, 0.1)


def test_grid_and_unknown_searchers():
    from gml.models.subnet_search import build_searcher
    calls = []
    small = {"net": parse_space({"d": dict(type="Int", lower=1, upper=4)})}
    grid = build_searcher(small, {"type": "GridSearcher"})
    result = SubnetSearcher(small, lambda c: c["net"]["d"], lambda cs: [(c["net"]["d"], {}) for c in cs],
                            limit=3, searcher=grid, num_candidates=10).run()
    assert sorted(c.choice["net"]["d"] for c in result.scored) == [1, 2, 3]
    with pytest.raises(GmlConfigError, match="--searcher.type: unknown searcher 'Nope'"):
        build_searcher(SPACE, {"type": "Nope"})
