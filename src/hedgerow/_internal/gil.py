"""Letting request threads run while a background thread does long CPU-bound work.

Flushes and compactions are Python loops that hold the GIL; a thread serving a
request that wants it back waits for the holder's switch interval (5 ms by
default) at every hand-over. ``yield_gil()`` gives it up at once, so the
background loop calls it every few hundred entries (measured: the get p99
during a major compaction drops from about 95 ms to about 20 ms with a
0.5 ms switch interval, and further with yielding; docs/benchmarks.md). Flushes
still run here; compactions in ``hedgerow standalone`` run in a worker process
instead (``hedgerow.region.compaction``).
"""

from __future__ import annotations

import time

__all__ = ["yield_gil"]


def yield_gil() -> None:
    """Release the GIL and let any waiting thread run (``time.sleep(0)``)."""
    time.sleep(0)
