"""Compatibility shims that must run before mmcv/mmcls are imported.

torchvision stand-in
    mmcv 1.7.2 imports ``torchvision`` at module level in ``mmcv.runner.checkpoint``, only to list model-zoo URLs for
    ``torchvision://`` checkpoints. PyTorch 2.13 has no CPU torchvision build, so where ``import torchvision`` fails,
    :func:`install_torchvision_stand_in` puts a placeholder package into ``sys.modules``. Using it fails with a
    message that says torchvision is needed:

    - ``torchvision.__version__`` is :data:`STAND_IN_VERSION` (``0.0.0+gml.placeholder``), so environment reports
      (mmcv's ``collect_env``) say what is installed;
    - any other attribute (``torchvision.models``) raises :class:`TorchvisionMissingAttribute`
      (an AttributeError, so ``hasattr(torchvision, x)`` is simply False, as libraries that scan ``sys.modules``
      expect);
    - importing a submodule (``import torchvision.ops``, ``from torchvision import transforms``) raises
      :class:`TorchvisionMissingError` (an ImportError).

    Where a real torchvision imports, it is used and nothing is replaced.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types

STAND_IN_FLAG = "__gml_stand_in__"
STAND_IN_VERSION = "0.0.0+gml.placeholder"

_MESSAGE = ("torchvision is needed for {what}, but it is not installed (gml put a placeholder in its place so that "
            "mmcv imports without it). Install the torchvision build that matches your torch "
            "(https://pytorch.org/get-started/locally/), or avoid this feature (e.g. torchvision:// checkpoints).")


class TorchvisionMissingError(ImportError):
    """Importing a torchvision submodule while only the placeholder is installed."""


class TorchvisionMissingAttribute(AttributeError):
    """Reading an attribute of the torchvision placeholder."""


class _TorchvisionStandIn(types.ModuleType):
    def __getattr__(self, name: str):
        # Introspection (inspect, pickle, pytest, importlib) asks for dunder names and must see a plain miss.
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        raise TorchvisionMissingAttribute(_MESSAGE.format(what=f"'torchvision.{name}'"))


class _StandInSubmoduleFinder(importlib.abc.MetaPathFinder):
    """Turns ``import torchvision.<x>`` into a clear error while the placeholder is installed."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith("torchvision.") and is_stand_in(sys.modules.get("torchvision")):
            raise TorchvisionMissingError(_MESSAGE.format(what=f"'{fullname}'"), name=fullname)
        return None


def is_stand_in(module) -> bool:
    """Whether ``module`` is gml's torchvision placeholder."""
    return module is not None and bool(module.__dict__.get(STAND_IN_FLAG, False))


def install_torchvision_stand_in() -> bool:
    """Make ``import torchvision`` succeed. Returns True when the placeholder was installed now, False when a real
    torchvision (or the placeholder) is already importable. Idempotent."""
    if sys.modules.get("torchvision") is not None:
        return False
    try:
        import torchvision  # noqa: F401  (the real one wins wherever it imports)
        return False
    except ImportError:
        pass
    # A failed import can leave half-imported submodules behind; drop them so the placeholder is consistent.
    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]
    module = _TorchvisionStandIn("torchvision", "gml placeholder: torchvision is not installed")
    module.__spec__ = importlib.machinery.ModuleSpec("torchvision", loader=None, is_package=True)
    module.__path__ = []
    setattr(module, STAND_IN_FLAG, True)
    module.__version__ = STAND_IN_VERSION
    sys.modules["torchvision"] = module
    if not any(isinstance(f, _StandInSubmoduleFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _StandInSubmoduleFinder())
    return True
