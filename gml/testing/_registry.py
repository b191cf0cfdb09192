"""Building a user's class the way a search config builds a registered one."""
from __future__ import annotations

from typing import Tuple, Union

from ..registry import Registry


def registry_for(registry: Registry, kind: Union[str, type]) -> Tuple[Registry, str]:
    """``(registry, name)`` that build ``kind`` by name: ``registry`` itself for a registered name, else a registry
    of the same kind holding only the class, so its keyword checks and error messages are the real ones."""
    if isinstance(kind, str):
        return registry, kind
    own = Registry(registry.name)
    own.register_module()(kind)
    return own, kind.__name__
