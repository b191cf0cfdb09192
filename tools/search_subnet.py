#!/usr/bin/env python
"""Search a subnet of a trained BigNAS or DMCP supernet under a FLOPs or params limit.

    python tools/search_subnet.py CONFIG CHECKPOINT --work-dir work_dirs/search --flops-limit 3.0
        [--strategy evolution|random] [--population-size 20 --generations 5 --num-parents 5 --mutation-prob 0.2]
        [--num-candidates 50 (random)] [--calib-iters N] [--launcher local --parallel 2]
    python tools/search_subnet.py CONFIG CHECKPOINT --flops-limit 3.0 --searcher TPESearcher
        [--searcher-options n_startup_trials=10] [--num-candidates 50] [--batch-size 10]

``--searcher`` takes any registered gml searcher (RandomSearcher, EvolutionSearcher, TPESearcher, SkoptSearcher,
NASEvolutionSearcher: the one-shot NAS preset of 20 generations x 50 candidates, ...) over the supernet's flat
search space (gml/models/space.py: flat_space); ``--searcher-options`` are its keywords. It scores
``--num-candidates`` subnets (NASEvolutionSearcher: its own budget unless given), ``--batch-size`` at a time.

Every candidate within the limit is scored by its top-1 accuracy on the validation split after its BatchNorm
statistics are recalibrated on the training split (fixed order, test pipeline: deterministic; ``--calib-iters``
batches, default the config's ``search_eval_cfg.bn_stats_calib_kwargs.num_iters``, else all). FLOPs/params are in
the evaluator's units (``search_eval_cfg.evaluator``, default 'M'). Writes under ``--work-dir``:
``candidates.jsonl`` (every scored candidate), ``best_subnet.yaml``, ``pareto.yaml`` (cost-ascending front) and
``pareto/subnet_<i>.yaml``. Retrain/test the result with ``--cfg-options algorithm.mutable_cfg=best_subnet.yaml``;
export it with tools/export_subnet.py.

Before the search the supernet's reference subnets are scored the same way: ``max`` and ``min`` (and, for a DMCP
supernet, ``expected``: every channel group at its expected width), printed and written to ``references.yaml``
(with ``references/<name>.yaml``); those within the limit also compete for the best subnet and the Pareto front.

A DMCP supernet's space is its channel groups' bucket widths (``DMCPMutator.search_space``); ``--searcher
MarkovChainSearcher`` draws candidates by walking the learnt Markov chains (the tool hands it the supernet's
transition probabilities), any other searcher works on the same space. The subnet files are structure files:
retrain one with ``--cfg-options algorithm.retraining=True algorithm.channel_cfg=best_subnet.yaml``.

``--task NAME`` makes the search a gml task (run from a project with ``.search-run/``, see search-init): the
supernet's flat space becomes the task's ``search_args``, ``--searcher`` (default NASEvolutionSearcher) proposes,
the controller runs each candidate as a job on ``--launcher`` (default local), ``--parallel`` at a time, and drops
candidates over the limit before launch (FILTERED). It is resumable like any task (``--resume`` after the
controller died) and shows up in search-ctl; the results are written as below once the task ends.

``--launcher local|slurm|ray`` (without ``--task``) scores each generation's candidates as gml jobs (``--parallel`` at a time), each
running this tool with ``--eval-subnet``: score one subnet YAML, write ``--result`` JSON and report
``acc``/``flops``/``params`` to gml (so the same command can also be a job of an HPO task).
"""
from __future__ import annotations

import argparse
import json
import os
import os.path as osp
import shlex
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import gml.models  # noqa: E402,F401  (registers gml's classes; torchvision stand-in)
from gml.cli.common import user_errors  # noqa: E402


def parse_args(argv=None):
    from mmcv import DictAction

    p = argparse.ArgumentParser(description="Search a subnet of a trained BigNAS or DMCP supernet")
    p.add_argument("config")
    p.add_argument("checkpoint")
    p.add_argument("--work-dir", default=None, help="default: work_dirs/<config>_search")
    limit = p.add_mutually_exclusive_group()
    limit.add_argument("--flops-limit", type=float, help="largest FLOPs (MACs) per image, in evaluator units")
    limit.add_argument("--params-limit", type=float, help="largest parameter count, in evaluator units")
    p.add_argument("--strategy", choices=["evolution", "random"], default="evolution")
    p.add_argument("--population-size", type=int, default=20)
    p.add_argument("--generations", type=int, default=5)
    p.add_argument("--num-parents", type=int, default=5)
    p.add_argument("--mutation-prob", type=float, default=0.2)
    p.add_argument("--num-candidates", type=int, default=None,
                   help="random strategy / --searcher: candidates to score (default 50)")
    p.add_argument("--searcher", help="a registered gml searcher (overrides --strategy), e.g. TPESearcher")
    p.add_argument("--searcher-options", nargs="+", action=DictAction, default={},
                   help="keywords of --searcher, e.g. seed=1 n_startup_trials=10")
    p.add_argument("--batch-size", type=int, default=None, help="--searcher: candidates per batch (default 10)")
    p.add_argument("--calib-iters", type=int, default=None,
                   help="BN calibration batches (-1: the whole split; default: the config's "
                        "search_eval_cfg.bn_stats_calib_kwargs.num_iters, else -1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--launcher", default="none", help="none (score here) or a gml launcher: local, slurm, ray")
    p.add_argument("--parallel", type=int, default=2, help="candidate jobs at a time (with --launcher)")
    p.add_argument("--task", help="run the search as this gml task (see the module docstring)")
    p.add_argument("--resume", action="store_true", help="with --task: continue the task")
    p.add_argument("--eval-subnet", help="score this one subnet YAML and exit")
    p.add_argument("--eval-args", nargs="+", metavar="KEY=VALUE",
                   help="score the subnet of this flat-space point (one KEY=VALUE per leaf) and exit")
    p.add_argument("--result", help="with --eval-subnet: write the scores to this JSON file")
    p.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    args = p.parse_args(argv)
    check_args(args)
    return args


def check_args(args) -> None:
    """Numbers the search needs in range; a GmlConfigError (exit 2) naming the option otherwise."""
    from gml.errors import GmlConfigError
    from gml.models.bn_calib_settings import check_num_iters

    positive = {"--flops-limit": args.flops_limit, "--params-limit": args.params_limit}
    for name, value in positive.items():
        if value is not None and not value > 0:
            raise GmlConfigError(name, f"expected a number > 0, got {value}")
    at_least_one = {"--num-candidates": args.num_candidates, "--batch-size": args.batch_size,
                    "--parallel": args.parallel, "--population-size": args.population_size,
                    "--num-parents": args.num_parents}
    for name, value in at_least_one.items():
        if value is not None and value < 1:
            raise GmlConfigError(name, f"expected an integer >= 1, got {value}")
    if args.generations < 0:
        raise GmlConfigError("--generations", f"expected an integer >= 0, got {args.generations}")
    if not 0 <= args.mutation_prob <= 1:
        raise GmlConfigError("--mutation-prob", f"expected a probability in [0, 1], got {args.mutation_prob}")
    if args.calib_iters is not None:
        check_num_iters(args.calib_iters, "--calib-iters")


def _setup(args):
    from gml.errors import GmlConfigError
    from gml.models.bn_calib_settings import resolve_calib_iters
    from gml.models.builder import load_config
    from gml.models.subnet import build_loaders, evaluator_from_cfg, load_supernet

    cfg = load_config(args.config, args.cfg_options)
    # from here on the resolved count: the candidate jobs and a task's jobs get it explicitly
    args.calib_iters = resolve_calib_iters(cfg, args.calib_iters)
    if (cfg.get("algorithm") or {}).get("retraining"):
        raise GmlConfigError("algorithm.retraining", "a retrained pruned network has one structure, nothing to "
                                                     "search: give the supernet's config and checkpoint")
    algorithm = load_supernet(cfg, args.checkpoint)
    val_loader, calib_loader = build_loaders(cfg)
    return cfg, algorithm, evaluator_from_cfg(cfg), val_loader, calib_loader


def eval_one(args) -> int:
    from gml.models.mutators import load_choice
    from gml.models.subnet import score_subnet
    from gml.reporting import report

    from gml.models.space import choice_of, flat_space
    from gml.models.subnet_task import parse_eval_args

    cfg, algorithm, evaluator, val_loader, calib_loader = _setup(args)
    if args.eval_args:
        space = algorithm.mutator.search_space
        point = parse_eval_args(args.eval_args)
        if set(point) != set(flat_space(space).keys):
            from gml.errors import GmlConfigError
            raise GmlConfigError("--eval-args", f"expected one KEY=VALUE per leaf: {flat_space(space).keys}, "
                                                f"got {sorted(point)}")
        choice = algorithm.mutator.load(choice_of(space, point), "--eval-args")
    else:
        choice = algorithm.mutator.load(load_choice(args.eval_subnet, "--eval-subnet"), "--eval-subnet")
    scores = score_subnet(algorithm, choice, evaluator, val_loader, calib_loader, args.calib_iters)
    if args.result:
        with open(args.result, "w") as handle:
            json.dump(scores, handle)
    report(step=0, acc=scores["accuracy_top-1"], flops=scores["flops"], params=scores["params"])
    print(json.dumps(scores))
    return 0


class JobScorer:
    """Scores a batch of candidates as gml jobs (``--eval-subnet``), ``parallel`` at a time."""

    def __init__(self, args, work_dir: str, algorithm):
        from gml.registry import LAUNCHERS
        import gml.launchers  # noqa: F401  (registers the launchers)

        self.args, self.work_dir, self.algorithm = args, work_dir, algorithm
        self.launcher = LAUNCHERS.build({"type": args.launcher}, "--launcher")
        self.count = 0

    def _command(self, subnet: str, result: str) -> str:
        tool = osp.abspath(__file__)
        parts = [sys.executable, tool, osp.abspath(self.args.config), osp.abspath(self.args.checkpoint),
                 "--eval-subnet", subnet, "--result", result, "--calib-iters", str(self.args.calib_iters)]
        if self.args.cfg_options:
            parts += ["--cfg-options"] + [f"{k}={v}" for k, v in self.args.cfg_options.items()]
        return " ".join(shlex.quote(str(p)) for p in parts)

    def __call__(self, choices):
        from gml.launchers.base import JobSpec

        specs = []
        for choice in choices:
            self.count += 1
            job_dir = osp.join(self.work_dir, "jobs", str(self.count))
            os.makedirs(job_dir, exist_ok=True)
            subnet = self.algorithm.mutator.dump(osp.join(job_dir, "subnet.yaml"), choice)
            result = osp.join(job_dir, "result.json")
            specs.append((JobSpec(job_id=self.count, task="subnet-search", command=self._command(subnet, result),
                                  cwd=os.getcwd(), job_dir=job_dir, log_path=osp.join(job_dir, "log.txt"),
                                  env={"GML_JOB_DIR": job_dir, "GML_TASK": "subnet-search",
                                       "GML_JOB_ID": str(self.count)}), result))
        waiting, running, outcomes = list(specs), {}, {}
        while waiting or running:
            while waiting and len(running) < max(1, self.args.parallel):
                spec, result = waiting.pop(0)
                running[self.launcher.submit(spec)] = (spec, result)
            statuses = self.launcher.poll(list(running))
            for ext_id, status in statuses.items():
                if status.state.is_done:
                    spec, result = running.pop(ext_id)
                    outcomes[spec.job_id] = result if osp.isfile(result) else None
            if running:
                self.launcher.wait(0.5)
        scored = []
        for spec, result in specs:
            path = outcomes.get(spec.job_id)
            if path is None:
                scored.append((None, {}))
                continue
            with open(path) as handle:
                scores = json.load(handle)
            scored.append((scores["accuracy_top-1"], scores))
        return scored


def search(args) -> int:
    import yaml

    from gml.models.subnet import score_subnet
    from gml.models.subnet_search import SubnetSearcher, build_searcher

    cfg, algorithm, evaluator, val_loader, calib_loader = _setup(args)
    work_dir = args.work_dir or osp.join("work_dirs", osp.splitext(osp.basename(args.config))[0] + "_search")
    os.makedirs(work_dir, exist_ok=True)
    key = "params" if args.params_limit is not None else "flops"
    limit = args.params_limit if args.params_limit is not None else args.flops_limit

    def cost(choice):
        algorithm.mutator.set_choice(choice)
        return evaluator.complexity(algorithm)[key]

    def score_here(choices):
        out = []
        for choice in choices:
            scores = score_subnet(algorithm, choice, evaluator, val_loader, calib_loader, args.calib_iters)
            out.append((scores["accuracy_top-1"], scores))
        return out

    started = time.time()
    driver = None
    if args.searcher or args.task:  # built first: a bad --searcher fails before any scoring
        driver = build_searcher(algorithm.mutator.search_space, searcher_cfg(args, algorithm), "--searcher")
    references = score_references(algorithm, evaluator, val_loader, calib_loader, args.calib_iters, key)
    if args.task:
        result = run_task(args, algorithm, key, limit)
        return write_results(args, work_dir, algorithm, evaluator, result, key, limit, started, references)
    scorer = score_here if args.launcher == "none" else JobScorer(args, work_dir, algorithm)
    num_candidates = 50 if args.num_candidates is None else args.num_candidates
    if driver is not None and args.num_candidates is None and hasattr(driver, "budget"):
        num_candidates = driver.budget
    searcher = SubnetSearcher(algorithm.mutator.search_space, cost, scorer, limit=limit, strategy=args.strategy,
                              population_size=args.population_size, generations=args.generations,
                              num_parents=args.num_parents, mutation_prob=args.mutation_prob,
                              num_candidates=num_candidates, seed=args.seed, searcher=driver,
                              batch_size=args.batch_size, log=lambda msg: print(f"[search] {msg}", flush=True))
    result = searcher.run()
    return write_results(args, work_dir, algorithm, evaluator, result, key, limit, started, references)


def searcher_cfg(args, algorithm, default: str = "NASEvolutionSearcher") -> dict:
    """The ``--searcher`` config: its ``--searcher-options``, ``seed`` from ``--seed``; a MarkovChainSearcher gets
    the supernet's learnt chains (``transitions``) unless they were given, and its importable type (for a task's
    controller)."""
    from gml.errors import GmlConfigError
    from gml.models.pruning.markov_search import MarkovChainSearcher
    from gml.models.subnet_search import searcher_class

    options = dict(args.searcher_options)
    options.setdefault("seed", args.seed)
    name = args.searcher or default
    cls = searcher_class(name, "--searcher")
    if issubclass(cls, MarkovChainSearcher):
        if "transitions" not in options:
            chains = getattr(algorithm.mutator, "markov_transitions", None)
            if chains is None:
                raise GmlConfigError("--searcher", f"{cls.__name__} walks the learnt Markov chains of a DMCP "
                                                   f"supernet; {type(algorithm).__name__} has none")
            options["transitions"] = chains()
        name = f"{cls.__module__}.{cls.__qualname__}"
    return dict(options, type=name)


def score_references(algorithm, evaluator, val_loader, calib_loader, calib_iters, key):
    """The supernet's reference subnets (``max``, ``min``; DMCP: ``expected`` too), each scored like a candidate:
    an OrderedDict name -> Candidate (``cost``: its ``key`` metric)."""
    from collections import OrderedDict

    from gml.models.subnet import score_subnet
    from gml.models.subnet_search import Candidate, reference_choices

    out = OrderedDict()
    units = evaluator.units or ""
    for name, choice in reference_choices(algorithm).items():
        scores = score_subnet(algorithm, choice, evaluator, val_loader, calib_loader, calib_iters)
        out[name] = cand = Candidate(choice, float(scores[key]), score=scores["accuracy_top-1"], metrics=scores,
                                     generation=-1)
        print(f"[search] reference {name}: top-1 {cand.score:.2f} at {_costs(cand, units)}", flush=True)
    return out


def run_task(args, algorithm, key, limit):
    """Run (or resume) the search as the gml task ``args.task``; its scored candidates as a SearchResult."""
    import yaml

    from gml.cli import run as search_run
    from gml.models.subnet_search import SearchResult
    from gml.models.subnet_task import task_candidates, task_config
    from gml.search.task.workspace import find_root

    root = find_root()
    extra = ["--calib-iters", str(args.calib_iters)]
    if args.cfg_options:
        extra += ["--cfg-options"] + [f"{k}={v}" for k, v in args.cfg_options.items()]
    config = task_config(algorithm.mutator.search_space, osp.abspath(__file__), osp.abspath(args.config),
                         osp.abspath(args.checkpoint), searcher_cfg(args, algorithm),
                         "local" if args.launcher == "none" else args.launcher, args.parallel,
                         50 if args.num_candidates is None else args.num_candidates, key, limit, extra,
                         args.cfg_options)
    config_path = osp.join(root, ".search-run", f"subnet_search_{args.task}.yaml")
    with open(config_path, "w") as handle:
        yaml.safe_dump(config, handle, sort_keys=False)
    code = search_run.main([config_path, "--task", args.task, "-q"] + (["--resume"] if args.resume else []))
    if code not in (0,):
        print(f"[search] task {args.task} ended with exit code {code}", file=sys.stderr)
    return SearchResult(task_candidates(root, args.task, algorithm.mutator.search_space, key))


def write_results(args, work_dir, algorithm, evaluator, result, key, limit, started, references) -> int:
    """Write candidates.jsonl, best_subnet.yaml, pareto.yaml, pareto/, references.yaml and references/ under
    ``work_dir``; print the reference subnets, the Pareto front and the summary. The reference subnets within the
    limit join the searched candidates for the best subnet and the front."""
    import yaml

    from gml.models.subnet_search import choice_key

    reference_of = {choice_key(c.choice): name for name, c in references.items()}
    units = evaluator.units or ""
    _write_references(work_dir, algorithm, references, key, limit)
    searched = len(result.scored)
    result = result.with_references(references.values(), limit)
    best = result.best
    if best is None:
        print("error: no candidate within the limit could be scored", file=sys.stderr)
        return 1
    with open(osp.join(work_dir, "candidates.jsonl"), "w") as handle:
        for cand in result.candidates:
            handle.write(json.dumps(dict(generation=cand.generation, cost=cand.cost, score=cand.score,
                                         metrics=cand.metrics, choice=cand.choice,
                                         reference=reference_of.get(choice_key(cand.choice)))) + "\n")
    algorithm.mutator.dump(osp.join(work_dir, "best_subnet.yaml"), best.choice)
    front = result.pareto_front()
    os.makedirs(osp.join(work_dir, "pareto"), exist_ok=True)
    entries = []
    print(f"[search] Pareto front (top-1 vs {key}, {key} ascending):")
    for index, cand in enumerate(front):
        path = algorithm.mutator.dump(osp.join(work_dir, "pareto", f"subnet_{index}.yaml"), cand.choice)
        reference = reference_of.get(choice_key(cand.choice))
        entries.append(dict(subnet=path, score=cand.score, flops=cand.metrics.get("flops"),
                            params=cand.metrics.get("params"), reference=reference))
        print(f"[search]   subnet_{index}: top-1 {cand.score:.2f} at {_costs(cand, units)}"
              + (f" (= {reference})" if reference else ""))
    with open(osp.join(work_dir, "pareto.yaml"), "w") as handle:
        yaml.safe_dump(entries, handle, sort_keys=False)
    print(f"[search] {searched} candidates scored in {time.time() - started:.0f}s; best top-1 "
          f"{best.score:.2f} at {_costs(best, units)} (limit {key} <= {limit}); Pareto front: {len(front)} subnets")
    print(f"[search] wrote {osp.join(work_dir, 'best_subnet.yaml')} and {osp.join(work_dir, 'pareto.yaml')}")
    return 0


def _costs(cand, units: str) -> str:
    return f"{cand.metrics['flops']:.3f} {units}FLOPs, {cand.metrics['params']:.3f} {units} params"


def _write_references(work_dir, algorithm, references, key, limit) -> None:
    import yaml

    entries = []
    for name, cand in references.items():
        path = algorithm.mutator.dump(osp.join(work_dir, "references", f"{name}.yaml"), cand.choice)
        entries.append(dict(name=name, subnet=path, score=cand.score, flops=cand.metrics.get("flops"),
                            params=cand.metrics.get("params"), within_limit=limit is None or cand.cost <= limit))
    with open(osp.join(work_dir, "references.yaml"), "w") as handle:
        yaml.safe_dump(entries, handle, sort_keys=False)


def main(argv=None) -> int:
    args = parse_args(argv)
    return eval_one(args) if (args.eval_subnet or args.eval_args) else search(args)


if __name__ == "__main__":
    sys.exit(user_errors(os.path.basename(__file__))(main)())
