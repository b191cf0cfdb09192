"""``DMCPStructureHook``: at the end of DMCP supernet training, sample pruned structures from the learnt Markov
chains and write them (``work_dir/model_sample``).

``gml.DMCP`` adds this hook itself (gml's training loop registers ``algorithm.runner_hooks()``). It draws Markov
walks until ``algorithm_cfg.arch_sample_num`` structures lie within ``algorithm_cfg.flops_tolerance`` (relative)
of ``floss_cfg.target_flops``, or ``MAX_DRAWS`` walks were drawn, and writes

- ``subnet_<i>.yaml``: ``mflops`` and ``channels`` (channel group -> width) of each kept walk;
- ``expected.yaml``: the expected structure (every group at its expected width, rounded to a bucket);
- ``summary.json``: all of them with their MFLOPs, the target, the tolerance and the number of draws.

Any of these files is a valid ``algorithm.channel_cfg`` for retraining.
"""
from __future__ import annotations

import json
import os.path as osp
from typing import Dict, List

from mmcv.runner import Hook, get_dist_info

from ..evaluation import unwrap
from ..registry import HOOKS

#: Markov walks drawn at most per structure to find one within tolerance.
MAX_DRAWS = 2000


def sample_structures(algorithm, count: int, tolerance: float) -> Dict[str, object]:
    """Up to ``count`` Markov-walk structures within ``tolerance`` of the target, and the expected structure."""
    mutator = algorithm.mutator
    target = algorithm.target_flops
    kept: List[dict] = []
    draws = 0
    while len(kept) < count and draws < MAX_DRAWS * count:
        draws += 1
        choice = mutator.markov_choice()
        flops = mutator.flops_of(choice)
        if abs(flops - target) <= tolerance * target and choice not in [k["channels"] for k in kept]:
            kept.append(dict(mflops=flops, channels=choice))
    expected = mutator.expected_choice()
    return dict(target_mflops=target, tolerance=tolerance, draws=draws, samples=kept,
                expected=dict(mflops=mutator.flops_of(expected), channels=expected,
                              expected_mflops=float(mutator.expected_flops().detach())))


def write_structures(algorithm, out_dir: str, result: Dict[str, object]) -> List[str]:
    mutator = algorithm.mutator
    paths = []
    for index, sample in enumerate(result["samples"]):
        paths.append(mutator.dump(osp.join(out_dir, f"subnet_{index}.yaml"), sample["channels"],
                                  mflops=round(sample["mflops"], 6), source="markov walk"))
    expected = result["expected"]
    paths.append(mutator.dump(osp.join(out_dir, "expected.yaml"), expected["channels"],
                              mflops=round(expected["mflops"], 6), source="expected structure"))
    with open(osp.join(out_dir, "summary.json"), "w") as handle:
        json.dump(result, handle, indent=1)
    return paths


@HOOKS.register_module()
class DMCPStructureHook(Hook):
    def after_run(self, runner) -> None:
        if get_dist_info()[0] != 0:
            return
        algorithm = unwrap(runner.model)
        result = sample_structures(algorithm, algorithm.arch_sample_num, algorithm.flops_tolerance)
        out_dir = osp.join(runner.work_dir, "model_sample")
        write_structures(algorithm, out_dir, result)
        lines = [f"{len(result['samples'])} of {algorithm.arch_sample_num} structures within "
                 f"{result['tolerance']:.0%} of {result['target_mflops']} MFLOPs in {result['draws']} Markov walks"]
        lines += [f"subnet_{i}: {s['mflops']:.3f} MFLOPs" for i, s in enumerate(result["samples"])]
        lines.append(f"expected: {result['expected']['mflops']:.3f} MFLOPs (expected FLOPs "
                     f"{result['expected']['expected_mflops']:.3f})")
        runner.logger.info(f"DMCP structures written to {out_dir}: " + "; ".join(lines))
