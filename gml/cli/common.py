"""What the console scripts share: user errors as one line and an exit code, never a traceback."""
from __future__ import annotations

import functools
import shutil
import sys
from typing import Callable, Optional

from ..errors import GmlError


def user_errors(prog: str) -> Callable:
    """Run ``main``; a GmlError prints ``<prog>: error: <message>`` and exits with the error's code."""

    def deco(main: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(main)
        def wrapper(argv=None) -> int:
            try:
                return main(argv)
            except GmlError as err:
                print(f"{prog}: error: {err}", file=sys.stderr)
                return err.exit_code
            except KeyboardInterrupt:
                print(f"{prog}: interrupted", file=sys.stderr)
                return 130
        return wrapper

    return deco


DEFAULT_WIDTH = 120      # columns when the output is not a terminal and COLUMNS is not set
NARROWEST = 10           # a column is not cut narrower than this (nor than its header)
GAP = "  "


def output_width() -> int:
    """The columns tables fit in: $COLUMNS, else the terminal's width, else DEFAULT_WIDTH."""
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


def table(rows, headers, width: Optional[int] = None, keep: int = 1) -> str:
    """A plain aligned text table that fits ``width`` columns (default :func:`output_width`). Cells are str()'d
    and cut at 60 characters. When the natural widths do not fit, the widest columns are cut (a cut value ends
    with '...'; headers are never cut); when even that does not fit, the columns are split into several tables,
    one under the other, each repeating the first ``keep`` columns (the row's identity)."""
    width = output_width() if width is None else width
    cells = [[_cell(c) for c in row] for row in rows]
    natural = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    least = [min(n, max(NARROWEST, len(h))) for n, h in zip(natural, headers)]
    widths = _shrink(list(natural), least, width)
    if _total(widths) <= width or len(headers) <= keep + 1:
        return _render(cells, headers, widths)
    groups, current = [], list(range(keep))
    for i in range(keep, len(headers)):
        if len(current) > keep and _total([least[j] for j in current + [i]]) > width:
            groups.append(current)
            current = list(range(keep))
        current.append(i)
    groups.append(current)
    return "\n\n".join(table([[row[i] for i in group] for row in rows], [headers[i] for i in group], width, keep)
                       for group in groups)


def _total(widths) -> int:
    return sum(widths) + len(GAP) * (len(widths) - 1)


def _shrink(widths, least, width):
    """Narrow the widest columns (never below ``least``) until the table fits ``width`` or cannot narrow."""
    excess = _total(widths) - width
    while excess > 0:
        narrowable = [i for i, w in enumerate(widths) if w > least[i]]
        if not narrowable:
            break
        widest = max(narrowable, key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1
    return widths


def _render(cells, headers, widths) -> str:
    fit = lambda text, w: text if len(text) <= w else text[:w - 3] + "..."
    line = lambda r: GAP.join(fit(c, w).ljust(w) for c, w in zip(r, widths)).rstrip()
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in cells])


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:.4g}" if value and (abs(value) < 1e-3 or abs(value) >= 1e6) else f"{value:.6g}"
    else:
        text = str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."
