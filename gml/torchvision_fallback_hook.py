"""The start-up half of gml's torchvision stand-in (standard library only; see gml/torchvision_stand_in.py).

``python -m gml.torchvision_stand_in --install-pth`` copies this file into site-packages as the top-level module
``gml_torchvision_fallback``, next to the ``gml-torchvision-stand-in.pth`` file that imports it at every interpreter
start. So that this costs next to nothing, it imports nothing and only appends :class:`LazyTorchvisionFallback` to
``sys.meta_path``: the LAST finder, asked only about modules no other finder found. For ``torchvision`` alone it
then imports ``gml.torchvision_stand_in`` and hands the question to its ``FallbackFinder`` (a real torchvision,
found earlier, still wins); where gml is no longer importable it finds nothing, like a plain missing module.
"""
import sys


class LazyTorchvisionFallback:
    """A meta-path finder that loads gml's torchvision fallback on the first ``import torchvision`` that found
    nothing else."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torchvision":
            return None
        try:
            from gml.torchvision_stand_in import FallbackFinder
        except ImportError:          # gml was uninstalled but this file stayed: no stand-in
            return None
        return FallbackFinder().find_spec(fullname, path, target)


if not any(type(finder).__name__ == "LazyTorchvisionFallback" for finder in sys.meta_path):
    sys.meta_path.append(LazyTorchvisionFallback())
