"""The dashboard's packages come from the optional extra ``gml[dashboard]``: a missing one is one clear error."""
from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import GmlError


class MissingExtraError(GmlError):
    exit_code = 2


def require(module: str, feature: str, extra: str = "dashboard") -> ModuleType:
    """Import ``module`` or raise MissingExtraError saying that ``feature`` needs it and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingExtraError(f"{feature} needs the Python package {module.split('.')[0]!r} ({err}); install "
                                f"it with pip install 'gml[{extra}]'") from None
