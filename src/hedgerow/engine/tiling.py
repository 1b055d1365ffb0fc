"""The tiling invariant of a table's regions: they cover the key space exactly once.

Role: the master checks it at open (``tiling_problem``: a meta table that does
not tile is corruption) and, when invariants are on, before every procedure's
meta commit (``check_tiling``).
Invariants: this module states one; see ``tiling_problem``'s rationale.
Concurrency: pure functions; thread-safe.
"""

from __future__ import annotations

from collections.abc import Sequence

from hedgerow._internal import invariants
from hedgerow.engine.catalog import RegionEntry

__all__ = ["check_tiling", "tiling_problem"]


def tiling_problem(entries: Sequence[RegionEntry]) -> str | None:
    """What keeps ``entries`` (sorted by start key) from tiling the key space, or None.

    Rationale: the region server routes a row by bisecting the start keys and a scan
    visits each region once, so the regions of a table must cover ``[b"", b"")``
    exactly: a gap loses the rows in it and an overlap returns them twice. Every
    procedure's meta commit must keep this true.
    """
    if not entries:
        return "no regions"
    if entries[0].start_key != b"":
        return f"the first region {entries[0].name} starts at {entries[0].start_key!r}, not b''"
    if entries[-1].end_key != b"":
        return f"the last region {entries[-1].name} ends at {entries[-1].end_key!r}, not b''"
    for a, b in zip(entries, entries[1:], strict=False):
        if a.end_key != b.start_key:
            return (
                f"region {a.name} ends at {a.end_key!r} but the next, {b.name}, "
                f"starts at {b.start_key!r}"
            )
    return None


def check_tiling(table: str, entries: Sequence[RegionEntry]) -> None:
    """Before a meta commit (when invariants are on): the new region list tiles."""
    if invariants.ENABLED:
        problem = tiling_problem(entries)
        assert problem is None, f"table {table!r} would not tile its key space: {problem}"
