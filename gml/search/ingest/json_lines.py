"""Scalars from JSON-lines files a job writes (one JSON object per line, e.g. ``{"epoch": 3, "val_acc": 0.91}``).

Every matching file (a glob relative to the job's directory, default ``**/*.jsonl``; gml's own
``scalars.jsonl`` is read by ``report_files`` and skipped here) is read as it grows, complete lines only. Each
object's numeric values are scalars at its step: the ``step_attribute`` key when given, else the first of
``step``, ``epoch``, ``iteration``, ``iter`` present, else the line's number (1, 2, ...). Nested objects are
flattened with ``/`` (``{"val": {"acc": 0.9}}`` gives ``val/acc``). A line that is not a JSON object, or whose step
is missing or not a whole number, is skipped.
"""
from __future__ import annotations

import json
import time
from typing import Dict, List, Optional

from ...reporting import SCALARS_FILE
from .base import GrowingFiles, Row, as_number, as_step, pick_step_key

DEFAULT_PATTERN = "**/*.jsonl"


def _flatten(record: dict, prefix: str = "") -> Dict[str, object]:
    flat: Dict[str, object] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "/"))
        else:
            flat[name] = value
    return flat


class JsonLinesMetrics:
    def __init__(self, job_dir: str, pattern: str = DEFAULT_PATTERN, step_attribute: Optional[str] = None,
                 cursor: Optional[dict] = None):
        self.job_dir, self.pattern, self.step_attribute = job_dir, pattern, step_attribute
        self._files = GrowingFiles(job_dir, pattern, cursor, first_line_key="first_line", count_key="lines")
        self._lines = self._files.counts

    @property
    def cursor(self) -> dict:
        return self._files.cursor

    def read_new(self) -> List[Row]:
        rows: List[Row] = []
        for rel, growing in self._files.current(skip=(SCALARS_FILE,)):
            lines, rewritten = growing.read_lines()
            if rewritten:
                self._lines[rel] = 0
            now = time.time()
            for line in lines:
                self._lines[rel] += 1
                rows.extend(self._rows(line, self._lines[rel], now))
        return rows

    def _rows(self, line: str, number: int, now: float) -> List[Row]:
        try:
            record = json.loads(line)
        except ValueError:
            return []
        if not isinstance(record, dict):
            return []
        flat = _flatten(record)
        step_key = pick_step_key(flat, self.step_attribute)
        step = number if step_key is None else as_step(flat.get(step_key))
        if step is None:
            return []
        rows: List[Row] = []
        for name, raw in flat.items():
            value = None if name == step_key or isinstance(raw, (list, str)) and not _numeric_text(raw) else \
                as_number(raw)
            if value is not None:
                rows.append((name, step, value, now))
        return rows


def _numeric_text(raw) -> bool:
    return isinstance(raw, str) and raw.strip().lower() in ("nan", "inf", "-inf", "infinity", "-infinity")
