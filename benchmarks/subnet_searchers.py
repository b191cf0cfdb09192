#!/usr/bin/env python
"""Subnet search on a trained supernet: best accuracy found within the same number of scored candidates by each
gml searcher (median over seeds), all in one run on the same supernet, limit and scorer.

    python benchmarks/subnet_searchers.py CONFIG CHECKPOINT --flops-limit F [--candidates 20] [--seeds 0 1 2]
        [--searchers NASEvolutionSearcher RandomSearcher TPESearcher SkoptSearcher] [--calib-iters -1]
        [--cfg-options ...]

Each candidate is scored as tools/search_subnet.py scores it (BN recalibrated on the training split in a fixed
order, top-1 on the validation split); scoring is deterministic, so a subnet scored once is looked up, not
rescored, when another searcher or seed proposes it again. NASEvolutionSearcher runs a small schedule that fits
the budget (a first generation of a quarter of it, then generations of a quarter: half mutants, half crossovers,
parents the best quarter). Prints per searcher the best top-1 of each seed, the median, and the median's ratio
to RandomSearcher's.
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import statistics
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def main() -> int:
    from mmcv import Config, DictAction

    p = argparse.ArgumentParser()
    p.add_argument("config")
    p.add_argument("checkpoint")
    p.add_argument("--flops-limit", type=float, required=True)
    p.add_argument("--candidates", type=int, default=20)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--searchers", nargs="+",
                   default=["NASEvolutionSearcher", "RandomSearcher", "TPESearcher", "SkoptSearcher"])
    p.add_argument("--calib-iters", type=int, default=-1)
    p.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    args = p.parse_args()

    import torch

    import gml.models  # noqa: F401
    from gml.models.subnet import build_loaders, evaluator_from_cfg, load_supernet, score_subnet
    from gml.models.subnet_search import SubnetSearcher, build_searcher, choice_key

    torch.set_num_threads(1)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    algorithm = load_supernet(cfg, args.checkpoint)
    evaluator = evaluator_from_cfg(cfg)
    val_loader, calib_loader = build_loaders(cfg)
    space = algorithm.mutator.search_space
    cache = {}

    def cost(choice):
        algorithm.mutator.set_choice(choice)
        return evaluator.complexity(algorithm)["flops"]

    def score_batch(choices):
        out = []
        for choice in choices:
            key = choice_key(choice)
            if key not in cache:
                cache[key] = score_subnet(algorithm, choice, evaluator, val_loader, calib_loader, args.calib_iters)
            out.append((cache[key]["accuracy_top-1"], cache[key]))
        return out

    n = args.candidates
    quarter = max(2, n // 4)
    options = {"NASEvolutionSearcher": dict(population_size=quarter, generations=1 + (n - quarter + quarter - 1)
                                            // quarter, num_parents=quarter, num_mutation=quarter // 2,
                                            num_crossover=quarter - quarter // 2),
               "EvolutionSearcher": dict(population_size=quarter)}
    started = time.time()
    results = {}
    for name in args.searchers:
        results[name] = []
        for seed in args.seeds:
            searcher = build_searcher(space, dict(options.get(name, {}), type=name, seed=seed))
            result = SubnetSearcher(space, cost, score_batch, limit=args.flops_limit, searcher=searcher,
                                    num_candidates=n, batch_size=quarter).run()
            assert len(result.scored) == n and all(c.cost <= args.flops_limit for c in result.scored)
            results[name].append(result.best.score)
        print(f"{name:22s} best top-1 per seed {results[name]} median {statistics.median(results[name]):.2f}",
              flush=True)
    base = statistics.median(results.get("RandomSearcher", [float("nan")]))
    print(json.dumps({name: dict(median=statistics.median(v), ratio_to_random=statistics.median(v) / base,
                                 per_seed=v) for name, v in results.items()}))
    print(f"{len(cache)} distinct subnets scored in {time.time() - started:.0f}s "
          f"({n} candidates x {len(args.seeds)} seeds per searcher, FLOPs <= {args.flops_limit})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
