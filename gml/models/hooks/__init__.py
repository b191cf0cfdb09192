"""mmcv hooks registered in gml's HOOKS (a child of mmcv's): name them ``'gml.X'`` in a config."""
from .report import GmlReportHook

__all__ = ["GmlReportHook"]
