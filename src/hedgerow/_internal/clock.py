"""Injectable clocks: wall time in milliseconds for cell timestamps and TTL, monotonic for timers.

Role: the engine takes a ``Clock`` in its constructor so tests can drive time
(TTL expiry, periodic compaction) deterministically with ``ManualClock``.
Concurrency: ``SystemClock`` is stateless; ``ManualClock`` is guarded by the GIL
(single attribute reads and writes).
"""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


class Clock(Protocol):
    """What the engine needs from a clock."""

    def now_ms(self) -> int:
        """Wall-clock time in milliseconds since the epoch (cell timestamps, TTL)."""
        ...

    def monotonic_s(self) -> float:
        """Monotonic seconds for intervals and deadlines."""
        ...


class SystemClock:
    """The real clock."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic_s(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told to; for tests.

    >>> c = ManualClock(1000)
    >>> c.advance_ms(5); c.now_ms()
    1005
    """

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now_ms = start_ms

    def now_ms(self) -> int:
        return self._now_ms

    def monotonic_s(self) -> float:
        return self._now_ms / 1000.0

    def advance_ms(self, delta_ms: int) -> None:
        if delta_ms < 0:
            raise ValueError("a clock never goes backwards")
        self._now_ms += delta_ms

    def set_ms(self, now_ms: int) -> None:
        if now_ms < self._now_ms:
            raise ValueError("a clock never goes backwards")
        self._now_ms = now_ms
