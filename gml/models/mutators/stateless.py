"""``StatelessMutator``: samples and sets the subnet of a searchable model; it keeps no state of its own besides
the random generator (the current subnet lives in the model's dynamic ops).

A subnet ("choice") is a dict keyed by the dotted module path of each searchable module in the model
(``backbone``, ``resize_process``) whose value is that module's choice, e.g.::

    backbone:
      MB_out_channels: [16, 24, 40, 1792]
      MB_kernel_size: [3, 5, 3, 1]
      ...
    resize_process: {resolution: 224}

It is what ``dump``/``dumps`` write as YAML and ``load`` reads (``algorithm.mutable_cfg=subnet.yaml``).
"""
from __future__ import annotations

import os
import random
from collections import OrderedDict
from typing import Any, Dict, Optional, Union

import yaml
from torch import nn

from ...errors import GmlConfigError
from ..registry import MUTATORS
from ..space import Searchable, max_choice, min_choice, random_choice, validate_choice


@MUTATORS.register_module(name=["StatelessMutator", "StateslessMutator"])
class StatelessMutator:
    """Build with ``dict(type='gml.StatelessMutator', seed=None)`` and attach with :meth:`prepare_from_supernet`.
    ``'StateslessMutator'`` (GML's spelling) names the same class."""

    def __init__(self, seed: Optional[int] = None):
        self.rng = random.Random(seed)
        self.searchables: "OrderedDict[str, Searchable]" = OrderedDict()

    # --- attaching -------------------------------------------------------------------------------------------
    def prepare_from_supernet(self, model: nn.Module) -> None:
        """Collect the searchable modules of ``model`` (outermost ones; a searchable nested in another is the
        outer one's business)."""
        self.searchables.clear()
        for name, module in model.named_modules():
            if not isinstance(module, Searchable):
                continue
            if any(name.startswith(outer + ".") for outer in self.searchables):
                continue
            self.searchables[name] = module
        if not self.searchables:
            raise GmlConfigError("algorithm.model", "the model has no searchable module (e.g. a gml.*Slice "
                                                    "backbone with a search_space, or a ResizeSlice)")

    @property
    def search_space(self) -> Dict[str, Any]:
        return {name: module.search_space for name, module in self.searchables.items()}

    # --- choices ---------------------------------------------------------------------------------------------
    def max_choice(self) -> Dict[str, Any]:
        return max_choice(self.search_space)

    def min_choice(self) -> Dict[str, Any]:
        return min_choice(self.search_space)

    def random_choice(self) -> Dict[str, Any]:
        return random_choice(self.search_space, self.rng)

    def current_choice(self) -> Dict[str, Any]:
        return {name: module.current_choice for name, module in self.searchables.items()}

    def validate(self, choice: Dict[str, Any], path: str = "mutable_cfg") -> Dict[str, Any]:
        return validate_choice(self.search_space, choice, path)

    def set_choice(self, choice: Dict[str, Any], path: str = "mutable_cfg") -> Dict[str, Any]:
        """Configure the model to run ``choice`` (validated first, so a bad choice changes nothing)."""
        choice = self.validate(choice, path)
        for name, module in self.searchables.items():
            module.set_choice(choice[name], f"{path}.{name}")
        return choice

    def set_max(self) -> Dict[str, Any]:
        return self.set_choice(self.max_choice())

    def set_min(self) -> Dict[str, Any]:
        return self.set_choice(self.min_choice())

    def set_random(self) -> Dict[str, Any]:
        return self.set_choice(self.random_choice())

    # --- YAML ------------------------------------------------------------------------------------------------
    def dumps(self, choice: Optional[Dict[str, Any]] = None) -> str:
        """YAML of ``choice`` (default: the current one); lists are written inline."""
        choice = self.current_choice() if choice is None else choice
        return yaml.safe_dump(_plain(choice), default_flow_style=None, sort_keys=False)

    def dump(self, path: str, choice: Optional[Dict[str, Any]] = None) -> str:
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        with open(path, "w") as handle:
            handle.write(self.dumps(choice))
        return path

    def load(self, source: Union[str, Dict[str, Any]], path: str = "mutable_cfg") -> Dict[str, Any]:
        """A validated choice from a YAML file path or a dict (not applied; see :meth:`set_choice`)."""
        return self.validate(load_choice(source, path), path)


def load_choice(source: Union[str, Dict[str, Any]], path: str = "mutable_cfg") -> Dict[str, Any]:
    """Read a subnet from a YAML file (or take a dict as is)."""
    if isinstance(source, dict):
        return dict(source)
    if not isinstance(source, str) or not os.path.isfile(source):
        raise GmlConfigError(path, f"expected a subnet YAML file or a dict, got {source!r} (no such file)")
    with open(source) as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise GmlConfigError(path, f"{source} does not hold a mapping of module -> choice")
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value
