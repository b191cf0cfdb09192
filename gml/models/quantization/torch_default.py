"""gml.TorchDefaultQuantizer: PyTorch's eager-mode quantization (fuse -> prepare_qat -> convert) for mm models.

    quantizer=dict(type='gml.TorchDefaultQuantizer', backend='fbgemm', input_layer='backbone',
                   output_layer='neck', fuse_config={'backbone': [['conv1', 'bn1', 'relu']], ...},
                   custom_qconfig=None)

- ``backend``: the int8 kernel library: one of ``torch.backends.quantized.supported_engines`` of this torch
  ('fbgemm', 'x86', 'qnnpack', 'onednn' on x86 builds). It picks the default QAT qconfig (fbgemm/x86: per-channel
  weights, 7-bit activations; qnnpack: per-tensor weights, 8-bit activations) and the kernels that run the int8 model.
- ``input_layer``: dotted name of the module where quantization starts: its input goes through a ``QuantStub``.
- ``output_layer``: dotted name of the last quantized module: its output goes through a ``DeQuantStub``. Usually not
  the model's last layer: the classifier head stays float (``output_layer='neck'``).
  Every module that, in definition order (``named_modules()``), lies from ``input_layer`` to the end of
  ``output_layer`` is quantized; modules before or after stay float. mm classifiers define backbone, neck and head in
  the order they run, and so do mmcls's backbones.
- ``fuse_config``: ``{module name: [names of its submodules to fuse]}`` (one group) or ``{module name: [[...],
  [...]]}`` (several groups), e.g. ``{'backbone.layer1.0': [['conv1', 'bn1', 'relu'], ['conv2', 'bn2']]}``.
  Fusable sequences are PyTorch's: conv(+bn)(+relu), linear(+bn)(+relu), bn+relu. mmcls residual blocks are first
  made quantization-ready (:mod:`.blocks`, which also says their names).
- ``custom_qconfig``: overrides of the backend's default fake-quantizer arguments (:mod:`.qconfig`).

Wrong names, unknown keys and unfusable groups are GmlConfigErrors naming the key path.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence

from torch import nn

from ...errors import GmlConfigError
from ...validation import invalid, nearest_hint
from ..registry import QUANTIZERS
from ._ao import quiet_torch_ao, tq
from .base import BaseQuantizer
from .blocks import make_blocks_quantizable
from .qconfig import build_qat_qconfig, check_backend

#: Child of the model that holds the input QuantStub and the output DeQuantStub (their state is checkpointed there).
STUBS_NAME = "quant_stubs"


class QuantStubs(nn.Module):
    """The quantize step before ``input_layer`` and the dequantize step after ``output_layer``."""

    def __init__(self):
        super().__init__()
        self.quant = tq.QuantStub()
        self.dequant = tq.DeQuantStub()


class _QuantizeInput:
    """Forward pre-hook of ``input_layer``: quantizes its first argument. A callable object, not a closure, so that a
    deep copy of the model calls the copy's stub."""

    def __init__(self, stubs: QuantStubs):
        self.stubs = stubs

    def __call__(self, module, args):
        return (self.stubs.quant(args[0]), *args[1:])


class _DequantizeOutput:
    """Forward hook of ``output_layer``: dequantizes every tensor of its output (a tensor, tuple or list)."""

    def __init__(self, stubs: QuantStubs):
        self.stubs = stubs

    def __call__(self, module, args, output):
        return self._apply(output)

    def _apply(self, value):
        if isinstance(value, (tuple, list)):
            return type(value)(self._apply(v) for v in value)
        return self.stubs.dequant(value)


@QUANTIZERS.register_module()
class TorchDefaultQuantizer(BaseQuantizer):
    """PyTorch eager-mode QAT for mm models (see the module docs for the keys)."""

    def __init__(self, backend: str = "fbgemm", input_layer: str = "backbone", output_layer: str = "neck",
                 fuse_config: Optional[Mapping[str, Sequence]] = None, custom_qconfig: Optional[Mapping] = None,
                 config_path: str = "algorithm.quantizer"):
        self.path = config_path
        self.backend = check_backend(backend, f"{config_path}.backend")
        for key, value in (("input_layer", input_layer), ("output_layer", output_layer)):
            if not isinstance(value, str) or not value:
                raise invalid(f"{config_path}.{key}", value, "a module name such as 'backbone'")
        self.input_layer = input_layer
        self.output_layer = output_layer
        self.fuse_groups = self._parse_fuse_config(fuse_config)
        self.qconfig = build_qat_qconfig(self.backend, custom_qconfig, f"{config_path}.custom_qconfig")

    # --- BaseQuantizer -------------------------------------------------------------------------------------------
    def prepare(self, model: nn.Module) -> nn.Module:
        make_blocks_quantizable(model)
        modules = dict(model.named_modules())
        region = self._region(model, modules)
        model.train()
        self._fuse(modules)
        for module in model.modules():
            module.qconfig = None
        modules = dict(model.named_modules())  # fusion replaced some modules
        for name in region:
            modules[name].qconfig = self.qconfig
        with quiet_torch_ao():
            stubs = QuantStubs()
        stubs.qconfig = self.qconfig
        model.add_module(STUBS_NAME, stubs)
        modules[self.input_layer].register_forward_pre_hook(_QuantizeInput(stubs))
        modules[self.output_layer].register_forward_hook(_DequantizeOutput(stubs))
        with quiet_torch_ao():
            tq.prepare_qat(model, inplace=True)
        return model

    def set_observing(self, model: nn.Module, enabled: bool) -> None:
        with quiet_torch_ao():
            model.apply(tq.enable_observer if enabled else tq.disable_observer)

    def convert(self, model: nn.Module) -> nn.Module:
        self.activate()
        model.eval()
        with quiet_torch_ao():
            tq.convert(model, inplace=True)
        return model

    # --- config checks ---------------------------------------------------------------------------------------------
    def _parse_fuse_config(self, fuse_config) -> Dict[str, List[List[str]]]:
        path = f"{self.path}.fuse_config"
        if fuse_config is None:
            return {}
        if not isinstance(fuse_config, Mapping):
            raise invalid(path, fuse_config, "{module name: [submodule names]}")
        groups: Dict[str, List[List[str]]] = {}
        for parent, value in fuse_config.items():
            key_path = f"{path}.{parent}"
            if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
                value = [value]
            if (not isinstance(value, (list, tuple)) or not value
                    or not all(isinstance(g, (list, tuple)) and len(g) >= 2 and all(isinstance(n, str) for n in g)
                               for g in value)):
                raise invalid(key_path, value, "a list of >= 2 submodule names or a list of such lists")
            groups[str(parent)] = [list(g) for g in value]
        return groups

    def _lookup(self, modules: Mapping[str, nn.Module], name: str, key_path: str) -> nn.Module:
        if name in modules:
            return modules[name]
        raise GmlConfigError(key_path, f"the model has no module {name!r}{nearest_hint(name, modules)}")

    def _region(self, model: nn.Module, modules: Mapping[str, nn.Module]) -> List[str]:
        """Names of the modules to quantize: from ``input_layer`` to the end of ``output_layer``, definition order."""
        self._lookup(modules, self.input_layer, f"{self.path}.input_layer")
        self._lookup(modules, self.output_layer, f"{self.path}.output_layer")
        names = [n for n in modules if n]
        first = names.index(self.input_layer)
        inside_output = [i for i, n in enumerate(names)
                         if n == self.output_layer or n.startswith(self.output_layer + ".")]
        if inside_output[-1] < first:
            raise GmlConfigError(f"{self.path}.output_layer", f"{self.output_layer!r} comes before input_layer "
                                                              f"{self.input_layer!r} in the model")
        return names[first:inside_output[-1] + 1]

    def _fuse(self, modules: Mapping[str, nn.Module]) -> None:
        for parent_name, groups in self.fuse_groups.items():
            key_path = f"{self.path}.fuse_config.{parent_name}"
            parent = self._lookup(modules, parent_name, key_path)
            children = dict(parent.named_modules())
            for group in groups:
                kinds = [type(self._lookup(children, name, key_path)).__name__ for name in group]
                try:
                    with quiet_torch_ao():
                        tq.fuse_modules_qat(parent, [group], inplace=True)
                except (AssertionError, NotImplementedError, RuntimeError, AttributeError) as err:
                    raise GmlConfigError(key_path, f"cannot fuse {group} ({' + '.join(kinds)}): {err}; fusable "
                                                   f"sequences: conv(+bn)(+relu), linear(+bn)(+relu), bn+relu, "
                                                   f"each module fused once") from None

