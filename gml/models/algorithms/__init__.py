"""Algorithms that wrap a model (``cfg.algorithm``). Each module registers its classes in ``ALGORITHMS``.

Every module of this package is imported (in name order) when ``gml.models`` loads, so a new algorithm only needs a
new module here; an error inside a module is raised, never hidden.
"""
import pkgutil as _pkgutil
from importlib import import_module as _import_module

from .base import BaseAlgorithm

for _info in sorted(_pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _info.name.startswith("_"):
        _import_module(f"{__name__}.{_info.name}")

__all__ = ["BaseAlgorithm"]
