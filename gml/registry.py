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
import inspect
from typing import Any, Callable, Dict, Optional

from .errors import GmlConfigError
from .validation import KeywordError


class Registry:
    """Name -> class for one extension point (no mmcv: the controller imports light). The mm side's registries are
    mmcv registries, :class:`gml.models.registry.ScopedRegistry`."""

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
        cls = self.get(cfg["type"], f"{path}.type")
        kwargs = {k: v for k, v in defaults.items() if _accepts(cls, k)}
        kwargs.update({k: v for k, v in cfg.items() if k != "type"})
        check_keywords(cls, kwargs, set(defaults), path)
        try:
            return cls(**kwargs)
        except KeywordError as err:      # the class named its keyword; ``path`` says where its mapping is
            raise err.under(path) from None
        except GmlConfigError:
            raise
        except (TypeError, ValueError) as err:
            raise GmlConfigError(path, f"{cfg['type']}: {err}") from None


def _accepts(cls: type, name: str) -> bool:
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return True
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def check_keywords(cls: type, kwargs: Dict[str, Any], internal: set, path: str) -> None:
    """Refuse config keys the class does not take, listing the ones it does (unless it takes **kwargs)."""
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    valid = [n for n, p in params.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL and n not in internal]
    for key in kwargs:
        if key not in params:
            raise GmlConfigError(f"{path}.{key}", f"unknown key for {cls.__name__}; valid: {', '.join(valid) or '(none)'}")


SEARCHERS = Registry("searcher")
ASSESSORS = Registry("assessor")
STOP_CRITERIONS = Registry("stop criterion")
FILTER_CRITERIONS = Registry("filter criterion")
LAUNCHERS = Registry("launcher")
