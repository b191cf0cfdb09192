#!/usr/bin/env python
"""Write the structures DMCP's results compare against: uniform width scaling of a DMCP config's model to the
MFLOPs of a given structure (every channel group at the same fraction of its width), and the full model.

    python benchmarks/dmcp_uniform_structure.py CONFIG --like work_dir/model_sample/expected.yaml --out uniform.yaml
    python benchmarks/dmcp_uniform_structure.py CONFIG --full --out full.yaml

Each output is a structure file for ``--cfg-options algorithm.retraining=True algorithm.channel_cfg=<file>``, so
the baselines retrain through exactly the same code, schedule and data as the DMCP structure.
"""
from __future__ import annotations

import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--like", help="a structure file whose MFLOPs the uniform structure matches")
    group.add_argument("--full", action="store_true", help="the full (unpruned) model")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)

    from mmcv import Config

    import gml.models  # noqa: F401
    from gml.models.mutators.dmcp import build_supernet_mutator, read_structure, uniform_choice

    cfg = Config.fromfile(args.config)
    mutator = build_supernet_mutator(cfg.algorithm["model"], cfg.algorithm["mutator"])
    if args.full:
        choice, source = mutator.max_choice(), "full model"
    else:
        target = mutator.flops_of(mutator.validate(read_structure(args.like, "--like"), "--like"))
        choice, source = uniform_choice(mutator, target), f"uniform width scaling to the MFLOPs of {args.like}"
    mutator.dump(args.out, choice, mflops=round(mutator.flops_of(choice), 6), source=source)
    print(f"{args.out}: {mutator.flops_of(choice):.4f} MFLOPs ({source})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
