#!/usr/bin/env python
"""Convert a QAT checkpoint into an int8 model, evaluate it, and save it for deployment.

    python tools/quantize.py configs/quantization/qat_resnet18_digits.py work_dirs/qat_r18/latest.pth \
        --out-dir work_dirs/qat_r18/int8 [--out metrics.json] [--no-eval]

``CONFIG`` has ``algorithm=dict(type='gml.QuantizationAwareTraining', ...)`` and ``CHECKPOINT`` was written by
tools/train.py with it. Writes into ``--out-dir`` (see gml.models.quantization.export):

- ``int8.pth`` + ``int8_config.py``: evaluate with ``tools/test.py int8_config.py int8.pth``;
- ``int8_torchscript.pt``: ``img -> class scores``, runs with torch alone (set ``torch.backends.quantized.engine``
  to the config's backend first).

With gml.PT2EQuantizer, whose int8 model a state dict cannot rebuild (its activation scales are graph constants),
it writes ``int8_program.pt2`` instead: the ``torch.export`` program ``img -> class scores`` (any batch size;
``import torchao`` then ``torch.export.load(path).module()``).

Prints the test-split accuracy of the fake-quant model and of the int8 model, the saved artifact's largest
difference from the eager int8 model on one batch, and the size of the float weights vs the int8 checkpoint.
Runs on CPU (int8 kernels are CPU kernels).
"""
from __future__ import annotations

import argparse
import copy
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without installing

import gml.models  # noqa: E402  (first: installs the torchvision stand-in and registers gml's classes)
from gml.cli.common import table, user_errors  # noqa: E402
from gml.errors import GmlConfigError  # noqa: E402

INT8_CHECKPOINT = "int8.pth"
INT8_CONFIG = "int8_config.py"
INT8_TORCHSCRIPT = "int8_torchscript.pt"
INT8_PROGRAM = "int8_program.pt2"


def parse_args(argv=None):
    from mmcv import DictAction

    parser = argparse.ArgumentParser(description="Convert a QAT checkpoint to int8, evaluate and save it")
    parser.add_argument("config", help="the QAT training config (algorithm=gml.QuantizationAwareTraining)")
    parser.add_argument("checkpoint", help="a checkpoint tools/train.py wrote with that config")
    parser.add_argument("--out-dir", required=True, help="directory for int8.pth, int8_config.py, "
                                                         "int8_torchscript.pt")
    parser.add_argument("--out", help="file (.json/.yaml) to write the accuracies and sizes to")
    parser.add_argument("--no-eval", action="store_true", help="convert and save only")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={},
                        help="override config keys, e.g. data.test.split=train")
    return parser.parse_args(argv)


def _accuracy(model, cfg) -> dict:
    from mmcv.parallel import MMDataParallel

    from gml.models.testing import run_test
    from gml.models.training import build_val_loader

    dataset, loader = build_val_loader(cfg, distributed=False, split="test")
    outputs = run_test(MMDataParallel(model.cpu()), loader, "cpu", distributed=False)
    metric_options = dict(cfg.get("evaluation", {}).get("metric_options", {}))
    return {k: float(v) for k, v in dataset.evaluate(outputs, "accuracy", metric_options).items()}


def _example_batch(cfg):
    from gml.models.training import build_val_loader

    _, loader = build_val_loader(cfg, distributed=False, split="test")
    return next(iter(loader))["img"]


def _save_state_dict_and_torchscript(algorithm, cfg, args, meta, example):
    """Eager quantizers: int8.pth + int8_config.py (converted=True rebuilds the int8 structure) and TorchScript."""
    from mmcv import Config

    from gml.models.quantization import export

    ckpt_path = osp.join(args.out_dir, INT8_CHECKPOINT)
    export.save_int8_checkpoint(algorithm, ckpt_path, meta=dict(
        meta, CLASSES=algorithm.CLASSES, gml_version=gml.__version__, quantized_from=osp.abspath(args.checkpoint),
        backend=algorithm.quantizer.backend))
    int8_cfg = Config(copy.deepcopy(cfg._cfg_dict.to_dict()))
    int8_cfg.algorithm.converted = True
    int8_cfg.device = "cpu"
    int8_cfg.load_from = None
    int8_cfg.resume_from = None
    int8_cfg.dump(osp.join(args.out_dir, INT8_CONFIG))
    script_path = osp.join(args.out_dir, INT8_TORCHSCRIPT)
    export.save_torchscript(export.trace_scores(algorithm.model, example), script_path)
    return [ckpt_path, osp.join(args.out_dir, INT8_CONFIG), script_path], export.load_torchscript(script_path)


def _save_program(algorithm, args, example):
    """Quantizers whose int8 model a state dict cannot rebuild (gml.PT2EQuantizer): a torch.export program."""
    import torch

    from gml.models.quantization.pt2e import save_int8_program

    program_path = osp.join(args.out_dir, INT8_PROGRAM)
    save_int8_program(algorithm.model, example, program_path)
    return [program_path], torch.export.load(program_path).module()


def main(argv=None) -> int:
    import mmcv
    import torch
    from mmcv.runner import load_checkpoint

    from gml.models import build_algorithm
    from gml.models.builder import load_config
    from gml.models.algorithms.qat import QuantizationAwareTraining
    from gml.models.quantization import export

    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    if cfg.get("algorithm") is None:
        raise GmlConfigError("algorithm", "tools/quantize.py needs algorithm=dict(type="
                                          "'gml.QuantizationAwareTraining', ...) in the config")
    if cfg.algorithm.get("converted", False):
        raise GmlConfigError("algorithm.converted", "the config is already an int8 config; give the QAT training "
                                                    "config and its checkpoint")
    algorithm = build_algorithm(cfg.algorithm)
    if not isinstance(algorithm, QuantizationAwareTraining):
        raise GmlConfigError("algorithm.type", f"expected gml.QuantizationAwareTraining, got "
                                               f"{cfg.algorithm.get('type')!r}")
    checkpoint = load_checkpoint(algorithm, args.checkpoint, map_location="cpu", logger="silent")
    meta = checkpoint.get("meta", {})
    algorithm.CLASSES = meta.get("CLASSES")
    algorithm.eval()
    float_bytes = export.serialized_bytes(export.float_weights(algorithm.model.state_dict(),
                                                               algorithm.quantization_state))
    results = {"backend": algorithm.quantizer.backend}
    if not args.no_eval:
        results["fake_quant"] = _accuracy(algorithm, cfg)

    algorithm.convert()
    mmcv.mkdir_or_exist(args.out_dir)
    example = _example_batch(cfg)
    if algorithm.quantizer.int8_from_state_dict:
        written, check = _save_state_dict_and_torchscript(algorithm, cfg, args, meta, example)
        diff_key = "torchscript_max_abs_diff"
    else:
        written, check = _save_program(algorithm, args, example)
        diff_key = "program_max_abs_diff"
    with torch.no_grad():
        eager = algorithm.model.simple_test(example, post_process=False)
        saved = check(example)
    results[diff_key] = float((eager - saved).abs().max())
    results["float_weights_bytes"] = float_bytes
    results["int8_checkpoint_bytes"] = os.path.getsize(written[0])
    results["int8_state_bytes"] = export.serialized_bytes(algorithm.model.state_dict())
    results["size_ratio"] = float_bytes / results["int8_state_bytes"]
    if not args.no_eval:
        results["int8"] = _accuracy(algorithm, cfg)

    rows = [[name, results[name].get("accuracy_top-1")] for name in ("fake_quant", "int8") if name in results]
    if rows:
        print(table(rows, ["model", "accuracy_top-1"]))
    print(f"backend: {results['backend']}; float weights {float_bytes} B, int8 state {results['int8_state_bytes']} B "
          f"({results['size_ratio']:.2f}x smaller); saved ({diff_key}) vs eager int8 max |diff| "
          f"{results[diff_key]:.3g}")
    print(f"wrote {', '.join(written)}")
    if args.out:
        mmcv.dump(results, args.out)
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(user_errors(os.path.basename(__file__))(main)())
