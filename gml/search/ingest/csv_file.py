"""Scalars from CSV files a job writes: Lightning's ``CSVLogger`` (``lightning_logs/version_N/metrics.csv``) and
plain ``csv.writer``/pandas logs.

Every matching file (a glob relative to the job's directory, default ``**/metrics.csv``) is read as it grows. The
first line is the header; each later row gives one value per non-empty numeric cell, all at the row's step: the
``step_attribute`` column when given (``epoch`` or ``step`` for Lightning), else the first of ``step``, ``epoch``,
``iteration``, ``iter`` present, else the row's number (1, 2, ...). A row whose step cell is empty is skipped; the
step column itself is not reported as a scalar, the other step-like columns are.

Lightning rewrites its CSV with a wider header when a new metric name appears; the reader notices the new first
line and skips the rows it already returned. A file found shorter than what was read (a restarted job) is read
again from its start.
"""
from __future__ import annotations

import csv
import time
from typing import List, Optional

from .base import GrowingFiles, Row, as_number, as_step, pick_step_key

DEFAULT_PATTERN = "**/metrics.csv"


class CsvMetrics:
    def __init__(self, job_dir: str, pattern: str = DEFAULT_PATTERN, step_attribute: Optional[str] = None,
                 cursor: Optional[dict] = None):
        self.job_dir, self.pattern, self.step_attribute = job_dir, pattern, step_attribute
        self._files = GrowingFiles(job_dir, pattern, cursor, first_line_key="header", count_key="rows")
        self._rows_done = self._files.counts

    @property
    def cursor(self) -> dict:
        return self._files.cursor

    def read_new(self) -> List[Row]:
        rows: List[Row] = []
        for rel, growing in self._files.current():
            old_size = growing.offset
            lines, rewritten = growing.read_lines()
            if not lines:
                continue
            records = list(csv.reader(lines))
            if rewritten or old_size == 0:           # read from the file's start: the first line is the header
                header, body = records[0], records[1:]
                skip = self._rows_done[rel] if rewritten and growing.offset >= old_size else 0
                self._rows_done[rel] = 0
            else:
                header, body, skip = next(csv.reader([growing.first_line])), records, 0
            rows.extend(self._rows(header, body[skip:], start=self._rows_done[rel] + skip))
            self._rows_done[rel] += skip + len(body[skip:])
        return rows

    def _rows(self, header: List[str], body: List[List[str]], start: int) -> List[Row]:
        step_key = pick_step_key(header, self.step_attribute)
        now = time.time()
        rows: List[Row] = []
        for number, record in enumerate(body, start=start + 1):
            cells = dict(zip(header, record))
            step = number if step_key is None else as_step(cells.get(step_key, ""))
            if step is None:
                continue
            for name, raw in cells.items():
                if name == step_key or raw == "":
                    continue
                value = as_number(raw)
                if value is not None:
                    rows.append((name, step, value, now))
        return rows
