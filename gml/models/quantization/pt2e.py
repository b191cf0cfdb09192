"""gml.PT2EQuantizer: QAT on a graph captured by ``torch.export`` (torchao's PT2E flow) for mm classifiers.

    quantizer=dict(type='gml.PT2EQuantizer', backend='x86', input_shape=[3, 32, 32], output_layer='neck')

- ``backend``: the graph quantizer, and with it the int8 kernels: ``'x86'`` (torchao's ``X86InductorQuantizer``:
  per-channel symmetric int8 weights, per-tensor uint8 activations, QAT config; lowered by Inductor to oneDNN int8
  kernels). The only one here: torchao's other CPU quantizer (``ArmInductorQuantizer``) targets aarch64.
- ``input_shape``: ``[C, H, W]`` of the images the model sees (the data pipeline's output). The graph is captured
  with a dynamic batch size and this image size, which then is fixed.
- ``output_layer``: ``'neck'`` (default: backbone and neck are captured and quantized) or ``'backbone'`` (the neck
  stays float). The head stays float either way, as with gml.TorchDefaultQuantizer.

What ``prepare`` does to an mmcls classifier: mmcls residual blocks get one ReLU per call site
(:func:`~.blocks.make_blocks_exportable`), then ``model.backbone`` (and ``model.neck``) are captured in train mode
by ``torch.export`` into one :class:`CapturedFeatures` that replaces ``model.backbone`` (``model.neck`` becomes
``None``), and ``prepare_qat_pt2e`` inserts fake-quantization (conv+bn folded the QAT way). The classifier keeps
its own ``forward_train``/``simple_test``/head/losses, so tools/train.py, tools/test.py and mmcv's runner work
unchanged, and checkpoints hold the same tensors (parameter names gain ``backbone.`` twice: ``model.backbone.
graph.backbone.conv1.weight``; a float checkpoint still loads, by tensor identity). A captured graph is
specialised: Python branches on ``self.training`` (e.g. mmcls's ``norm_eval``) are fixed as in train mode; only
batch norm and dropout switch with ``train()``/``eval()`` (torchao's ``move_exported_model_to_train/eval``).

``convert`` gives the PT2E int8 graph: int8 weights (the float ones are dropped), activation scales as constants
in the graph, quantize/dequantize operators around float ones (the reference representation). It runs on CPU as it
is; :func:`lower_to_cpu_kernels` (``torch.compile`` with Inductor, weights frozen) turns the patterns into int8
kernels. Because activation scales live in the graph's code and not in its state dict, a PT2E int8 model cannot be
rebuilt from a state dict (``algorithm.converted=True`` is refused); it is saved with ``torch.export``
(:func:`save_int8_program`).
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import torch
from torch import nn

from ...errors import GmlConfigError
from ...validation import invalid, one_of
from ..registry import QUANTIZERS
from ._torchao import load_pt2e
from .base import BaseQuantizer
from .blocks import make_blocks_exportable

#: The backends gml.PT2EQuantizer offers (see the module docs) and what it can capture.
PT2E_BACKENDS = ("x86", )
OUTPUT_LAYERS = ("neck", "backbone")


class Features(nn.Module):
    """``img -> neck(backbone(img))`` (or the backbone's output alone): the part of a classifier that is captured."""

    def __init__(self, backbone: nn.Module, neck: Optional[nn.Module]):
        super().__init__()
        self.backbone = backbone
        self.neck = neck

    def forward(self, img):
        feats = self.backbone(img)
        return feats if self.neck is None else self.neck(feats)


class CapturedFeatures(nn.Module):
    """The captured (and prepared or converted) graph of a classifier's backbone (+ neck), standing in for
    ``model.backbone``. ``train()``/``eval()`` rewrite the graph's batch norm and dropout (a captured graph has no
    modes of its own) and are no-ops on an int8 graph."""

    def __init__(self, graph: torch.fx.GraphModule, int8: bool = False):
        super().__init__()
        self.graph = graph
        self.int8 = int8
        self._graph_training = True  # captured in train mode
        self.training = True

    def forward(self, img):
        return self.graph(img)

    def train(self, mode: bool = True):
        self.training = mode
        if not self.int8 and mode != self._graph_training:
            pt2e = load_pt2e("algorithm.quantizer")
            (pt2e.to_train if mode else pt2e.to_eval)(self.graph)
            self._graph_training = mode
        return self


@QUANTIZERS.register_module()
class PT2EQuantizer(BaseQuantizer):
    """PT2E QAT of an mm classifier's backbone (+ neck) with torchao (see the module docs for the keys)."""

    #: The int8 graph's activation scales are constants of its code: a state dict cannot rebuild it.
    int8_from_state_dict = False

    def __init__(self, backend: str = "x86", input_shape: Optional[Sequence[int]] = None,
                 output_layer: str = "neck", config_path: str = "algorithm.quantizer"):
        self.path = config_path
        self.backend = one_of(f"{config_path}.backend", backend, PT2E_BACKENDS)
        self.output_layer = one_of(f"{config_path}.output_layer", output_layer, OUTPUT_LAYERS)
        if (not isinstance(input_shape, (list, tuple)) or len(input_shape) != 3
                or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in input_shape)):
            raise invalid(f"{config_path}.input_shape", input_shape, "[C, H, W] of the model's input images, e.g. "
                                                                     "[3, 32, 32] (required: the graph is captured "
                                                                     "at that image size)")
        self.input_shape = tuple(input_shape)
        self._pt2e = load_pt2e(f"{config_path}.type")

    # --- BaseQuantizer -------------------------------------------------------------------------------------------
    def prepare(self, model: nn.Module) -> nn.Module:
        for part in ("backbone", ) + (("neck", ) if self.output_layer == "neck" else ()):
            if not isinstance(getattr(model, part, None), nn.Module):
                raise GmlConfigError("algorithm.model", f"gml.PT2EQuantizer captures model.backbone (and model.neck "
                                                        f"with output_layer='neck'); {type(model).__name__} has no "
                                                        f"{part} module")
        make_blocks_exportable(model)
        model.train()
        features = Features(model.backbone, model.neck if self.output_layer == "neck" else None)
        example = torch.randn(2, *self.input_shape)
        batch = torch.export.Dim("batch", min=1)
        program = torch.export.export(features, (example, ), dynamic_shapes=({0: batch}, ))
        quantizer = self._pt2e.X86InductorQuantizer().set_global(self._pt2e.x86_config(is_qat=True))
        graph = self._pt2e.prepare_qat(program.module(), quantizer)
        model.backbone = CapturedFeatures(graph)
        if self.output_layer == "neck":
            model.neck = None  # mmcls's classifiers skip a neck that is None
        return model

    def set_observing(self, model: nn.Module, enabled: bool) -> None:
        model.apply(self._pt2e.enable_observer if enabled else self._pt2e.disable_observer)

    def convert(self, model: nn.Module) -> nn.Module:
        captured = model.backbone
        if not isinstance(captured, CapturedFeatures) or captured.int8:
            raise RuntimeError("PT2EQuantizer.convert expects a model it prepared (and has not converted)")
        uncalibrated = self.uncalibrated(captured.graph)
        if uncalibrated:
            raise RuntimeError(f"PT2EQuantizer.convert: the fake-quantizers {uncalibrated[:3]} have observed no "
                               f"data; train (or load a QAT checkpoint) before converting")
        captured.train(False)
        graph = self._pt2e.convert(captured.graph)
        drop_unused_tensors(graph)
        model.backbone = CapturedFeatures(graph, int8=True)
        model.eval()
        return model

    # --- helpers ---------------------------------------------------------------------------------------------------
    def uncalibrated(self, graph: nn.Module) -> List[str]:
        """Names of the fake-quantizers whose observers have seen no data (their ranges are still infinite)."""
        names = []
        for name, module in graph.named_modules():
            observer = getattr(module, "activation_post_process", None)
            if isinstance(module, self._pt2e.FakeQuantizeBase) and observer is not None:
                if hasattr(observer, "min_val") and not torch.isfinite(observer.min_val).all():
                    names.append(name)
        return names


def drop_unused_tensors(graph: torch.fx.GraphModule) -> List[str]:
    """Delete the parameters and buffers no ``get_attr`` node of ``graph`` reads (after conversion: the float
    weights the int8 ones replaced); returns their names."""
    used = {node.target for node in graph.graph.nodes if node.op == "get_attr"}
    dropped = []
    for name in [n for n, _ in graph.named_parameters()] + [n for n, _ in graph.named_buffers()]:
        if name in used:
            continue
        owner_name, _, attr = name.rpartition(".")
        owner = graph.get_submodule(owner_name) if owner_name else graph
        delattr(owner, attr)
        dropped.append(name)
    return dropped


def lower_to_cpu_kernels(module: nn.Module) -> nn.Module:
    """``torch.compile`` (Inductor, weights frozen) of an int8 PT2E model or classifier: the quantize/dequantize
    patterns become oneDNN int8 kernels. Compiles on the first call of each input shape (seconds to minutes);
    call under ``torch.no_grad()``."""
    import torch._inductor.config as inductor_config

    inductor_config.freezing = True
    return torch.compile(module)


def save_int8_program(classifier: nn.Module, example: torch.Tensor, path: str) -> None:
    """Save ``img (N, C, H, W) -> softmax scores`` of an int8 PT2E classifier with ``torch.export.save`` (dynamic
    batch). Load with ``torch.export.load(path).module()``; torch (with torchao's operators registered, i.e.
    ``import torchao``) runs it, :func:`lower_to_cpu_kernels` makes it fast."""
    from .export import ClassScores

    batch = torch.export.Dim("batch", min=1)
    example = example[:2].clone()  # the program keeps its example inputs (the whole storage of a view)
    with torch.no_grad():
        program = torch.export.export(ClassScores(classifier).eval(), (example, ), dynamic_shapes=({0: batch}, ))
    torch.export.save(program, path)
