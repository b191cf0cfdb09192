"""gml's mm side: algorithms, searchable models, datasets and hooks for mmcv/mmcls training.

Importing this package loads torch, mmcv and mmcls (``import gml`` alone does not) and registers every gml class in
the registries of :mod:`gml.models.registry`. Where no real torchvision imports, a placeholder is installed first
(see :mod:`gml.torchvision_stand_in`) so that mmcv imports; any real use of it raises a clear error.

Layout: each sub-package's ``__init__`` imports its modules so that their decorators register the classes.
``algorithms`` (BaseAlgorithm, BigNAS, ...), ``datasets`` (DigitsDataset), ``hooks`` (GmlReportHook) are always
present; ``ops``, ``mutators``, ``backbones``, ``heads``, ``classifiers`` are imported when they exist.
"""
import warnings as _warnings
from importlib import import_module as _import_module
from importlib.util import find_spec as _find_spec

from .. import torchvision_stand_in

torchvision_stand_in.install_torchvision_stand_in()
# Notices mmcv prints on every import that say nothing about the user's run.
_warnings.filterwarnings("ignore", message=r"On January 1, 2023, MMCV will release v2\.0\.0")
_warnings.filterwarnings("ignore", message=r"Fail to import ``MultiScaleDeformableAttention``")

from . import registry  # noqa: E402
from .builder import build_algorithm, build_model, build_model_from_config, build_mutator  # noqa: E402
from .registry import (ALGORITHMS, BACKBONES, CLASSIFIERS, DATASETS, HEADS, HOOKS, LOSSES, MODELS,  # noqa: E402
                       MUTATORS, NECKS, PIPELINES)
from . import checkpoint  # noqa: E402,F401  (safe torch.load for mmcv checkpoints)

#: Sub-packages imported (in this order) so that their classes register; optional ones are skipped when absent.
_SUBPACKAGES = ("ops", "mutators", "backbones", "necks", "heads", "classifiers", "algorithms", "datasets", "hooks")
for _name in _SUBPACKAGES:
    if _find_spec(f"{__name__}.{_name}") is not None:
        _import_module(f"{__name__}.{_name}")

from .algorithms import BaseAlgorithm  # noqa: E402

__all__ = ["build_algorithm", "build_model", "build_model_from_config", "build_mutator", "BaseAlgorithm",
           "registry", "ALGORITHMS", "BACKBONES", "CLASSIFIERS", "DATASETS", "HEADS", "HOOKS", "LOSSES", "MODELS",
           "MUTATORS", "NECKS", "PIPELINES"]
