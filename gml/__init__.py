"""gml: AutoML for OpenMMLab-style training.

The controller side (``gml.search``, ``gml.launchers``) and the child side (``gml.report``) import without torch or
mmcv; the mm side (``gml.models``) loads them on first use.
"""
from .reporting import report
from .version import __version__

__all__ = ["__version__", "report"]
