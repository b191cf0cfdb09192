"""What the console scripts share: user errors as one line and an exit code, never a traceback."""
from __future__ import annotations

import functools
import sys
from typing import Callable

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


def table(rows, headers) -> str:
    """A plain aligned text table; cells are str()'d and cut at 60 characters."""
    cells = [[_cell(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
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
