"""Read requests: what a get or a scan asks for, independent of where it runs.

Role: built by the client API, executed by a region's read path
(hedgerow.region.query_matcher); serialisable for the RPC layer later.
Invariants: time ranges are ``[min_ts, max_ts)``; ``max_versions >= 1``.
Concurrency: immutable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hedgerow.model.cell import MAX_TIMESTAMP

__all__ = ["Columns", "ReadSpec", "ScanRange"]

#: family -> None (the whole family) or a set of qualifiers
Columns = dict[bytes, frozenset[bytes] | None]


@dataclass(frozen=True)
class ReadSpec:
    """Which cells of a row to return, common to gets and scans.

    ``columns`` None means every family. ``filter`` is a
    ``hedgerow.model.filters.Filter`` (typed ``Any`` here to keep this module
    free of the filter package).
    """

    columns: Columns | None = None
    min_ts: int = 0
    max_ts: int = MAX_TIMESTAMP
    max_versions: int = 1
    filter: Any = None
    raw: bool = False

    def wants_family(self, family: bytes) -> bool:
        return self.columns is None or family in self.columns


@dataclass(frozen=True)
class ScanRange:
    """Row bounds of a scan: ``start`` and ``stop`` with inclusivity; None = unbounded."""

    start: bytes | None = None
    start_inclusive: bool = True
    stop: bytes | None = None
    stop_inclusive: bool = False
    reverse: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
