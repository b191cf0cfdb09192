"""Collect the scalars jobs report while they run.

``gml.report`` appends JSON lines to ``<job_dir>/scalars.jsonl``. ``read_new_scalars`` reads what was appended
since the last offset, complete lines only (a line still being written is left for the next read), and returns
rows plus the new offset, which the controller stores with the rows in one transaction: no line is lost or
counted twice across a controller restart.
"""
from __future__ import annotations

import json
import os
from typing import Iterable, List, Optional, Tuple

from ...reporting import SCALARS_FILE

Row = Tuple[str, int, Optional[float], float]   # name, step, value, time


def _value(raw) -> Optional[float]:
    try:
        return float(raw)          # numbers, and 'nan'/'inf' strings written for non-finite values
    except (TypeError, ValueError):
        return None


def read_new_scalars(job_dir: str, offset: int, names: Optional[Iterable[str]] = None) -> Tuple[List[Row], int]:
    """Rows appended to the job's scalars file after byte ``offset`` (only ``names`` when given)."""
    path = os.path.join(job_dir, SCALARS_FILE)
    try:
        size = os.path.getsize(path)
    except OSError:
        return [], offset
    if size <= offset:
        return [], offset
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(size - offset)
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    wanted = None if names is None else set(names)
    rows: List[Row] = []
    for line in data[:end].splitlines():
        try:
            record = json.loads(line)
            step = int(record["step"])
            when = float(record.get("time", 0.0))
            scalars = record["scalars"]
        except (ValueError, KeyError, TypeError):
            continue               # a malformed line (not written by gml.report) is skipped, not fatal
        if not isinstance(scalars, dict):
            continue
        for name, raw in scalars.items():
            if wanted is None or name in wanted:
                rows.append((str(name), step, _value(raw), when))
    return rows, offset + end + 1


def reward_of(curve: List[Tuple[int, Optional[float]]], reward_from: str, optimize_mode: str) -> Optional[float]:
    """A job's reward from its reward-attribute curve: the last value, or the best one."""
    values = [(s, v) for s, v in curve if v is not None and v == v]
    if not values:
        return None
    if reward_from == "best":
        pick = max if optimize_mode == "maximize" else min
        return pick(v for _, v in values)
    return max(values, key=lambda sv: sv[0])[1]
