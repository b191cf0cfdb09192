"""A test hook for 2-process training runs (imported by the training processes through the config's
``custom_imports``; tests/models/dist puts this folder on their PYTHONPATH).

``RankProbeHook`` records, in the work dir, what each rank ends training with and which ranks wrote DMCP's
structure export:

- ``rank<r>_params.pth``: the algorithm's parameters (weights and, for DMCP, the architecture parameters) as rank
  ``r`` holds them after the last iteration; ``rank<r>_buffers.pth``: its buffers (BatchNorm statistics,
  quantization state);
- ``structure_writers.txt``: one line per call of DMCP's structure export, naming the rank that made it.

:func:`probed_config` writes the config a test trains: the given config plus this hook.
"""
import os.path as osp

import torch
from mmcv.runner import HOOKS, Hook, get_dist_info


HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(osp.dirname(HERE)))


def probed_config(config: str, directory) -> str:
    """A config file in ``directory`` that is ``config`` (relative to the repository) plus RankProbeHook; the
    training processes need this folder (``HERE``) on their PYTHONPATH."""
    path = osp.join(str(directory), "probed_" + osp.basename(config))
    with open(path, "w") as handle:
        handle.write(f"_base_ = [{osp.join(ROOT, config)!r}]\n"
                     "custom_imports = dict(imports=['gml_rank_probe'], allow_failed_imports=False)\n"
                     "custom_hooks = [dict(type='RankProbeHook', priority='LOWEST')]\n")
    return path


def rank_params(work_dir, kind: str = "params") -> list:
    """The parameters (``kind='buffers'``: the buffers) rank 0 and rank 1 ended training with."""
    return [torch.load(osp.join(str(work_dir), f"rank{r}_{kind}.pth"), map_location="cpu", weights_only=True)
            for r in (0, 1)]


def differing(rank0: dict, rank1: dict) -> list:
    """Names of the parameters that are not bit-identical on the two ranks."""
    assert rank0.keys() == rank1.keys()
    return [name for name in rank0 if not torch.equal(rank0[name], rank1[name])]


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
        rank = get_dist_info()[0]
        params = {name: param.detach().clone() for name, param in model.named_parameters()}
        torch.save(params, osp.join(runner.work_dir, f"rank{rank}_params.pth"))
        buffers = {name: buf.detach().clone() for name, buf in model.named_buffers()}
        torch.save(buffers, osp.join(runner.work_dir, f"rank{rank}_buffers.pth"))
