"""The controller's clocks, one object so that tests can drive them: ``time()`` stamps records (wall clock,
seconds since the epoch), ``monotonic()`` measures intervals (poll pacing, elapsed search time)."""
from __future__ import annotations

import time


class Clock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_CLOCK = Clock()
