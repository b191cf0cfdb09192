"""A test hook for 2-process training runs (imported by the training processes through the config's
``custom_imports``; tests/models/dist puts this folder on their PYTHONPATH).

``RankProbeHook`` records, in the work dir, what each rank ends training with and which ranks wrote DMCP's
structure export:

- ``rank<r>_params.pth``: the algorithm's parameters (weights and, for DMCP, the architecture parameters) as rank
  ``r`` holds them after the last iteration;
- ``structure_writers.txt``: one line per call of DMCP's structure export, naming the rank that made it.
"""
import os.path as osp

import torch
from mmcv.runner import HOOKS, Hook, get_dist_info


@HOOKS.register_module()
class RankProbeHook(Hook):
    def before_run(self, runner):
        from gml.models.hooks import dmcp_structure

        original = dmcp_structure.write_structures
        writers = osp.join(runner.work_dir, "structure_writers.txt")

        def recorded_write_structures(*args, **kwargs):
            with open(writers, "a") as handle:
                handle.write(f"{get_dist_info()[0]}\n")
            return original(*args, **kwargs)

        dmcp_structure.write_structures = recorded_write_structures

    def after_run(self, runner):
        model = getattr(runner.model, "module", runner.model)
        params = {name: param.detach().clone() for name, param in model.named_parameters()}
        torch.save(params, osp.join(runner.work_dir, f"rank{get_dist_info()[0]}_params.pth"))
