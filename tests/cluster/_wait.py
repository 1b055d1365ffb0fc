"""Polling helper for conditions another thread makes true."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    cond: Callable[[], object], timeout_s: float = 10.0, what: str = "", interval_s: float = 0.01
) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting until {what or cond}")
