"""Durations in search configs: a bare number means hours (GML's convention); strings take units."""
from __future__ import annotations

import math
import re
from typing import Any, Optional

from ...validation import invalid

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([smhd])")
_EXPECTED = "a duration such as 2 (hours), '30m' or '1h30m'"


def parse_duration(value: Any, path: str) -> Optional[float]:
    """Seconds for ``value`` (``2`` = 2 hours, ``'30m'``, ``'1h30m'``, ``'45s'``, ``'2d'``); None for none/inf.
    Errors name ``path`` (a ``gml.validation.Keyword`` for a class keyword)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise invalid(path, value, _EXPECTED)
    if isinstance(value, (int, float)):
        seconds = float(value) * 3600
    elif isinstance(value, str):
        text = value.strip().lower()
        if text in ("inf", "none", ""):
            return None
        try:
            seconds = float(text) * 3600
        except ValueError:
            parts = _PART.findall(text)
            if not parts or _PART.sub("", text).strip():
                raise invalid(path, value, _EXPECTED) from None
            seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    else:
        raise invalid(path, value, _EXPECTED)
    if math.isinf(seconds):
        return None
    if not seconds > 0:
        raise invalid(path, value, "a positive duration")
    return seconds


def format_duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:d}:{m:02d}:{s:02d}"
