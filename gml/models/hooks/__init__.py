"""mmcv hooks registered in gml's HOOKS (a child of mmcv's): name them ``'gml.X'`` in a config.

Every module of this package is imported (in name order) when ``gml.models`` loads, so a new hook only needs a new
module here; an error inside a module is raised, never hidden.
"""
import pkgutil as _pkgutil
from importlib import import_module as _import_module

from .report import GmlReportHook

for _info in sorted(_pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if not _info.name.startswith("_"):
        _import_module(f"{__name__}.{_info.name}")

__all__ = ["GmlReportHook"]
