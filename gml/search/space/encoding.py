"""What the encodings of gml points for outside optimisers (SkoptEncoding, OptunaEncoding) share: importing the
optional package, numbering the choices of Categorical and Nested dimensions, and snapping numbers onto Int and
Real dimensions (EvolutionSearcher's mutation snaps with it too)."""
from __future__ import annotations

import importlib
from typing import Any, Dict

from ...errors import GmlConfigError
from .dimensions import Int, Nested, canonical_key


def import_extra(module: str, searcher: str, package: str) -> Any:
    """Import ``module`` of the ``searchers`` extra, or raise GmlConfigError at ``searcher.type`` saying that
    ``searcher`` needs ``package`` and how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise GmlConfigError("searcher.type", f"{searcher} needs {package} ({err}); install it with "
                                              f"pip install 'gml[searchers]'") from None


def choice_key(d, choice: Any) -> str:
    """The canonical key of one choice of the Categorical or Nested dimension ``d`` (a Nested choice is a bundle
    of args; a Categorical one any JSON value)."""
    return canonical_key(choice) if isinstance(d, Nested) else canonical_key({"v": choice})


def choice_index(d) -> Dict[str, int]:
    """The index in ``d.choices`` of each choice, by :func:`choice_key`; of equal choices, the first one's."""
    return {choice_key(d, c): i for i, c in reversed(list(enumerate(d.choices)))}


def snap(d, x: float) -> Any:
    """The value of the Int or Real dimension ``d`` nearest to the number ``x``: on its ``step`` grid (an Int's
    always has one), clipped to its bounds."""
    if isinstance(d, Int):
        k = round((x - d.low) / d.step)
        return int(d.low + min(max(k, 0), (d.high - d.low) // d.step) * d.step)
    if d.step is not None:
        grid = d.grid()
        return grid[min(max(int(round((x - d.low) / d.step)), 0), len(grid) - 1)]
    return min(max(x, d.low), d.high)
