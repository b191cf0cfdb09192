"""Recording the outputs of modules named by their dotted path (``'backbone.layer4'``) with forward hooks."""
from __future__ import annotations

from typing import Dict, Iterable, List

import torch
from torch import nn

from ...errors import GmlConfigError
from ...validation import invalid, nearest_hint


def find_module(model: nn.Module, name: str, path: str) -> nn.Module:
    """The submodule of ``model`` at dotted path ``name``; a GmlConfigError at ``path`` listing the closest names
    (and the children of the longest prefix that exists) otherwise."""
    modules = dict(model.named_modules())
    if isinstance(name, str) and name in modules and name:
        return modules[name]
    if not isinstance(name, str) or not name:
        raise invalid(path, name, "a module's dotted path such as 'backbone.layer4'")
    prefix = name
    while prefix and prefix not in modules:
        prefix = prefix.rpartition(".")[0]
    children = [f"{prefix}.{child}" if prefix else child for child, _ in modules[prefix].named_children()]
    message = f"no module {name!r} in {type(model).__name__}{nearest_hint(name, modules)}"
    if children:
        message += f"; {'children of ' + repr(prefix) if prefix else 'top-level modules'}: {', '.join(children[:12])}"
    raise GmlConfigError(path, message)


class ModuleRecorder:
    """Forward hooks on named modules of one model that keep each module's latest output while ``active``.

    A module's output is stored as it is returned (a tensor, or a tuple for e.g. an mmcls backbone); a module that
    runs several times in one forward keeps its last output. Not thread-safe: one recorder per model, one forward
    at a time.
    """

    def __init__(self, model: nn.Module, names: Iterable[str], paths: Iterable[str]):
        self.outputs: Dict[str, object] = {}
        self.active = False
        self._handles: List[torch.utils.hooks.RemovableHandle] = []
        self._names: List[str] = []
        for name, path in zip(names, paths):
            if name in self._names:
                continue
            module = find_module(model, name, path)
            self._handles.append(module.register_forward_hook(self._hook(name)))
            self._names.append(name)

    @property
    def names(self) -> List[str]:
        return list(self._names)

    def _hook(self, name: str):
        def record(module, inputs, output):
            if self.active:
                self.outputs[name] = output
        return record

    def __enter__(self) -> "ModuleRecorder":
        self.outputs = {}
        self.active = True
        return self

    def __exit__(self, *exc) -> None:
        self.active = False

    def get(self, name: str, path: str):
        if name not in self.outputs:
            raise GmlConfigError(path, f"module {name!r} did not run in the forward pass, so nothing was recorded")
        return self.outputs[name]

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
