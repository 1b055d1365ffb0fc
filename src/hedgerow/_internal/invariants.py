"""Switch for expensive invariant checks (``_check()`` methods).

On in tests (``HEDGEROW_INVARIANTS=1``, set by tests/conftest.py), off in
benchmarks and production, as pebble's internal/invariants does.
"""

from __future__ import annotations

import os

__all__ = ["ENABLED"]

ENABLED: bool = os.environ.get("HEDGEROW_INVARIANTS", "") not in ("", "0")
