"""Name -> class registries for the controller's extension points.

These registries do not depend on mmcv so that the controller imports light. A user registers a class with a
decorator and names it in the search config::

    from gml.registry import SEARCHERS

    @SEARCHERS.register_module()
    class MySearcher(Searcher): ...

A config names a class by its registered name; ``module.path:ClassName`` or ``module.path.ClassName`` also imports
a class the user has not registered (the module is imported first, so decorators in it run).
"""
from __future__ import annotations

import importlib
from typing import Any, Callable, Dict, Optional

from .errors import GmlConfigError


class Registry:
    def __init__(self, name: str):
        self.name = name
        self._classes: Dict[str, type] = {}

    def __contains__(self, key: str) -> bool:
        return key in self._classes

    def __repr__(self) -> str:
        return f"Registry({self.name!r}, {sorted(self._classes)})"

    @property
    def names(self) -> list:
        return sorted(self._classes)

    def register_module(self, name: Optional[str] = None, force: bool = False,
                        aliases: tuple = ()) -> Callable[[type], type]:
        """Class decorator. ``aliases`` are other accepted spellings of the same class."""

        def deco(cls: type) -> type:
            for key in (name or cls.__name__, *aliases):
                if key in self._classes and self._classes[key] is not cls and not force:
                    raise KeyError(f"{key!r} is already registered in {self.name}")
                self._classes[key] = cls
            return cls

        return deco

    def get(self, key: str, path: str = "type") -> type:
        """The class registered as ``key``; a dotted/colon path imports it. Errors name ``path`` and the choices."""
        if key in self._classes:
            return self._classes[key]
        if isinstance(key, str) and ("." in key or ":" in key):
            module_name, _, attr = key.replace(":", ".").rpartition(".")
            try:
                module = importlib.import_module(module_name)
            except ImportError as err:
                raise GmlConfigError(path, f"cannot import module {module_name!r} for {key!r}: {err}") from None
            if key in self._classes:
                return self._classes[key]
            if hasattr(module, attr):
                return getattr(module, attr)
            raise GmlConfigError(path, f"module {module_name!r} has no {attr!r}")
        raise GmlConfigError(path, f"unknown {self.name} {key!r}; valid: {', '.join(self.names)}")

    def build(self, cfg: Dict[str, Any], path: str, **defaults: Any) -> Any:
        """Instantiate ``cfg['type']`` with the other keys (plus ``defaults`` they do not override)."""
        if not isinstance(cfg, dict) or "type" not in cfg:
            raise GmlConfigError(path, f"expected a mapping with a 'type' key, got {cfg!r}")
        kwargs = dict(defaults)
        kwargs.update({k: v for k, v in cfg.items() if k != "type"})
        cls = self.get(cfg["type"], f"{path}.type")
        try:
            return cls(**kwargs)
        except GmlConfigError:
            raise
        except (TypeError, ValueError) as err:
            raise GmlConfigError(path, f"{cfg['type']}: {err}") from None


SEARCHERS = Registry("searcher")
ASSESSORS = Registry("assessor")
STOP_CRITERIONS = Registry("stop criterion")
FILTER_CRITERIONS = Registry("filter criterion")
LAUNCHERS = Registry("launcher")
