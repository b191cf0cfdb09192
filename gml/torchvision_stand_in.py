"""A torchvision stand-in so that mmcv 1.x imports where no torchvision build exists (standard library only).

What it is
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

Where it applies
    - ``import gml.models`` installs it (gml's tools, and any config with ``custom_imports=['gml.models']``).
    - Code that never imports gml (a stock OpenMMLab ``tools/train.py``, mmcls's own scripts) gets it from a ``.pth``
      file in the environment: ``python -m gml.torchvision_stand_in --install-pth`` writes
      ``gml-torchvision-stand-in.pth`` and the tiny module ``gml_torchvision_fallback`` (a copy of
      ``gml/torchvision_fallback_hook.py``) into the environment's site-packages (``tools/setup_env.sh`` does this
      for gml's ``.venv``). At interpreter start the .pth imports that module, which imports nothing and appends a
      finder to ``sys.meta_path``: the LAST finder, consulted only for modules no other finder found. Only when
      ``import torchvision`` reaches it does it import this module and ask :class:`FallbackFinder`, so a real
      torchvision still wins and an interpreter that never imports torchvision loads nothing of gml.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
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


def _make_stand_in() -> types.ModuleType:
    module = _TorchvisionStandIn("torchvision", "gml placeholder: torchvision is not installed")
    module.__spec__ = importlib.machinery.ModuleSpec("torchvision", loader=None, is_package=True)
    module.__path__ = []
    setattr(module, STAND_IN_FLAG, True)
    module.__version__ = STAND_IN_VERSION
    return module


def _guard_submodules() -> None:
    if not any(isinstance(f, _StandInSubmoduleFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _StandInSubmoduleFinder())


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
    sys.modules["torchvision"] = _make_stand_in()
    _guard_submodules()
    return True


class _StandInLoader(importlib.abc.Loader):
    def create_module(self, spec):
        _guard_submodules()
        return _make_stand_in()

    def exec_module(self, module) -> None:
        pass


class FallbackFinder(importlib.abc.MetaPathFinder):
    """The last finder on ``sys.meta_path``: answers ``import torchvision`` with the stand-in, which is reached only
    when every earlier finder (the real package on ``sys.path`` among them) found nothing.

    An availability probe (``importlib.util.find_spec("torchvision")``, as Lightning/torchmetrics run at import to
    decide whether to import ``torchvision.transforms``) is answered "not found": only an import statement gets the
    stand-in, so those libraries see no torchvision instead of a placeholder that fails their imports. It may be
    asked directly by the import system or through the start-up hook's finder (one frame more)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torchvision" or _called_from_util_find_spec():
            return None
        return importlib.machinery.ModuleSpec("torchvision", _StandInLoader(), is_package=True)


_UTIL_FIND_SPEC_CODE = importlib.util.find_spec.__code__


def _called_from_util_find_spec() -> bool:
    frame = sys._getframe(2)
    for _ in range(5):
        if frame is None:
            return False
        code = frame.f_code
        if code.co_name == "find_spec" and code is _UTIL_FIND_SPEC_CODE:
            return True
        frame = frame.f_back
    return False


def install_fallback_finder() -> None:
    """Append :class:`FallbackFinder` to ``sys.meta_path`` (idempotent): the stand-in for every later
    ``import torchvision`` that finds no real one, in this interpreter only."""
    if not any(isinstance(f, FallbackFinder) for f in sys.meta_path):
        sys.meta_path.append(FallbackFinder())


PTH_NAME = "gml-torchvision-stand-in.pth"
HOOK_MODULE = "gml_torchvision_fallback"       # gml/torchvision_fallback_hook.py, installed as a top-level module
# One line, run by site.py at start-up: imports only the hook module written next to it
PTH_LINE = f"import {HOOK_MODULE}\n"


def install_pth(site_packages: str) -> str:
    """Write the ``.pth`` file and the start-up hook module it imports into ``site_packages``; returns the
    ``.pth`` file's path. Rewrites both (the hook then matches this gml)."""
    import os
    import shutil
    hook = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torchvision_fallback_hook.py")
    shutil.copyfile(hook, os.path.join(site_packages, HOOK_MODULE + ".py"))
    path = os.path.join(site_packages, PTH_NAME)
    with open(path, "w") as f:
        f.write(PTH_LINE)
    return path


def main(argv=None) -> int:
    import argparse
    import sysconfig
    parser = argparse.ArgumentParser(prog="python -m gml.torchvision_stand_in",
                                     description="Let code that never imports gml (a stock OpenMMLab tools/train.py) "
                                                 "import mmcv where no torchvision is installed.")
    parser.add_argument("--install-pth", action="store_true", help=f"write {PTH_NAME} into this environment")
    parser.add_argument("--site-packages", default=sysconfig.get_paths()["purelib"],
                        help="where to write it (default: this interpreter's site-packages)")
    args = parser.parse_args(argv)
    if not args.install_pth:
        parser.print_help()
        return 2
    print(install_pth(args.site_packages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
