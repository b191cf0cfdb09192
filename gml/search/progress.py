"""The progress line search-run prints while it works (stderr).

On a terminal one line is redrawn in place; otherwise (logs, CI) a line is printed when a job ends, at most
every few seconds otherwise, so a log file stays readable.
"""
from __future__ import annotations

import time
from typing import Dict, Optional, TextIO

from .config.durations import format_duration
from .task.jobs import Job, JobStatus, TaskStatus

QUIET_INTERVAL = 30.0   # seconds between lines in a non-terminal stream when nothing ended


class Progress:
    def __init__(self, task: str, reward_name: str, out: TextIO, enabled: bool = True):
        self.task, self.reward_name, self.out, self.enabled = task, reward_name, out, enabled
        self.tty = enabled and hasattr(out, "isatty") and out.isatty()
        self._last_line = ""
        self._last_print = 0.0
        self._dirty = False

    def _emit(self, text: str, transient: bool = False) -> None:
        if not self.enabled:
            return
        if self.tty:
            self.out.write("\r\033[K" + text + ("" if transient else "\n"))
        else:
            self.out.write(text + "\n")
        self.out.flush()

    def event(self, message: str) -> None:
        self._emit(f"[{self.task}] {message}")

    def job_done(self, job_id: int, status: JobStatus, reward: Optional[float]) -> None:
        self._dirty = True
        if not self.tty:
            shown = "-" if reward is None else f"{reward:.6g}"
            self._emit(f"[{self.task}] job {job_id} {status.value} {self.reward_name}={shown}")

    def tick(self, counts: Dict[str, int], best: Optional[float], elapsed: float) -> None:
        done = sum(n for s, n in counts.items() if JobStatus(s).is_terminal and s != "FILTERED")
        failed = sum(counts.get(s, 0) for s in ("ERROR", "KILLED", "TIMEOUT"))
        line = (f"[{self.task}] done {done} ({failed} failed, {counts.get('EARLY_STOPPED', 0)} stopped early) | "
                f"running {counts.get('RUNNING', 0)} | pending {counts.get('PENDING', 0)} | best {self.reward_name}="
                f"{'-' if best is None else f'{best:.6g}'} | {format_duration(elapsed)}")
        now = time.monotonic()
        if self.tty:
            if line != self._last_line:
                self._emit(line, transient=True)
        elif self._dirty or now - self._last_print > QUIET_INTERVAL:
            if line.split(" | ")[:-1] != self._last_line.split(" | ")[:-1] or now - self._last_print > QUIET_INTERVAL:
                self._emit(line)
                self._last_print = now
        self._last_line, self._dirty = line, False

    def close(self, status: TaskStatus, reason: Optional[str], best: Optional[Job]) -> None:
        if self.tty:
            self.out.write("\n")
        self._emit(f"[{self.task}] {status.value}: {reason}")
        if best is not None:
            self._emit(f"[{self.task}] best job {best.id}: {self.reward_name}={best.reward:.6g} {best.params}")
