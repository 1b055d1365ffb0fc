"""Client-side region locations and the routing rules both RPC clients share (RFC 0001).

Role: ``RpcBackend`` and ``AsyncRpcBackend`` keep a ``RegionLocator``: each
table's regions, read with one REGIONS call (answered from ``hbase:meta``) and
cached as sorted ranges, as HBase's client does with its MetaCache. Every data
call names the region it believes holds its row(s); a ``NotServingRegion``
answer makes the client ``forget`` the table, wait (``Backoff``) and try again
with fresh locations until its deadline. A multi-row call is split per region
by ``FanOut``, its parts are sent at once, and only the parts a region refused
are regrouped and sent again. The two clients differ only in how they wait.
Invariants: a cached table's ranges are sorted by start key and tile the key
space as of the moment they were read.
Concurrency: one lock guards the cache; lookups are a bisect. A ``FanOut``
belongs to one call.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from hedgerow._internal.clock import SystemClock
from hedgerow.errors import NotServingRegion, RegionClosed, WriteOutcomeUnknown
from hedgerow.rpc.codes import ConnectionLost, ServerUnreachable

__all__ = [
    "UNADDRESSED",
    "Backoff",
    "FanOut",
    "RegionLocator",
    "TableLocations",
    "resend_or_error",
]

X = TypeVar("X")

#: the first wait after a refusal, and the longest (HBase's client pauses 100 ms and
#: backs off; a split here takes tens of milliseconds, so start lower)
BACKOFF_FIRST_S = 0.01
BACKOFF_MAX_S = 1.0
#: a call's deadline when neither the backend nor its transport names one (seconds)
DEFAULT_BUDGET_S = 30.0

_SYSTEM_CLOCK = SystemClock()


def resend_or_error(e: BaseException, repeatable: bool) -> BaseException | None:
    """None when a call that failed with ``e`` may be sent again after a fresh lookup;
    else the error its caller gets.

    Sent again: RegionClosed and its NotServingRegion (the region moved, split, closed or
    is being opened: the server refused before applying anything) and
    ServerUnreachable (no connection: nothing was sent), for any call. A connection lost
    after the request went out is sent again only if the call is ``repeatable`` (a read,
    or a write whose every cell has an explicit timestamp: applying it twice leaves what
    applying it once does); any other write gets WriteOutcomeUnknown, since the server
    may or may not have applied it. HBase's client instead retries everything and gives
    Increment/Append a nonce the server deduplicates (HBASE-3787); Hedgerow has no nonces
    yet, so it does not guess.
    """
    if isinstance(e, (RegionClosed, ServerUnreachable)):
        return None
    if isinstance(e, ConnectionLost):
        if repeatable:
            return None
        err = WriteOutcomeUnknown(
            f"the connection broke after the write was sent ({e}); it may or may not have "
            "been applied: read the row to learn the outcome"
        )
        err.__cause__ = e
        return err
    return e


class TableLocations:
    """One table's regions as read from REGIONS: sorted ranges with names and servers."""

    __slots__ = ("starts", "names", "ends", "servers", "_server_of")

    def __init__(self, regions: Sequence[Any]) -> None:
        ordered = sorted(regions, key=lambda r: r.start_key)
        self.starts: list[bytes] = [r.start_key for r in ordered]
        self.names: list[str] = [str(r.name) for r in ordered]
        self.ends: list[bytes] = [r.end_key for r in ordered]
        self.servers: list[str | None] = [getattr(r, "server", None) or None for r in ordered]
        self._server_of = dict(zip(self.names, self.servers, strict=True))

    def server_of(self, region: str | None) -> str | None:
        """The address ("host:port") of the server hosting ``region``, as meta said when
        the table was looked up; None: unknown (send it to the bootstrap server)."""
        return None if region is None else self._server_of.get(region)

    def index(self, row: bytes) -> int:
        """The index (into ``names``) of the region holding ``row``."""
        return max(bisect.bisect_right(self.starts, row) - 1, 0)

    def index_below(self, row: bytes) -> int:
        """The index of the region holding the greatest rows below ``row`` (where a reverse
        scan starting just under ``row`` begins)."""
        return max(bisect.bisect_left(self.starts, row) - 1, 0)

    def locate(self, row: bytes) -> str | None:
        """The name of the region holding ``row`` (None: send the request unaddressed)."""
        return self.names[self.index(row)]

    def last(self) -> str | None:
        """The region holding the table's last rows (where a reverse scan from the end starts)."""
        return self.names[-1]

    def group(
        self, rows: Sequence[bytes], positions: Sequence[int]
    ) -> list[tuple[str | None, list[int]]]:
        """``positions`` (indexes into ``rows``) grouped by region, regions in key order."""
        starts = self.starts
        out: dict[int, list[int]] = {}
        for i in positions:
            out.setdefault(max(bisect.bisect_right(starts, rows[i]) - 1, 0), []).append(i)
        return [(self.names[r], out[r]) for r in sorted(out)]


class _Unaddressed(TableLocations):
    """For a server that speaks protocol version 1: requests name no region and the
    server routes them itself (and retries splits on its side)."""

    def __init__(self) -> None:
        super().__init__([])

    def locate(self, row: bytes) -> str | None:
        return None

    def last(self) -> str | None:
        return None

    def group(
        self, rows: Sequence[bytes], positions: Sequence[int]
    ) -> list[tuple[str | None, list[int]]]:
        return [(None, list(positions))] if positions else []


#: the locations used with a version-1 server (no region addressing)
UNADDRESSED: TableLocations = _Unaddressed()


class RegionLocator:
    """Cached region locations of every table a client used.

    The client fetches a table's regions itself (blocking or awaiting) and hands
    them to ``install``; ``cached`` answers from memory. ``lookups`` and
    ``refreshes`` count for tests and stats.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: dict[str, TableLocations] = {}  # guarded by self._lock
        self.lookups = 0
        self.refreshes = 0

    def cached(self, table: str) -> TableLocations | None:
        self.lookups += 1
        with self._lock:
            return self._tables.get(table)

    def install(self, table: str, regions: Sequence[Any]) -> TableLocations:
        loc = TableLocations(regions)
        if not loc.names:
            raise NotServingRegion(f"table {table!r} has no regions to address")
        with self._lock:
            self._tables[table] = loc
            self.refreshes += 1
        return loc

    def forget(self, table: str) -> None:
        """Drop a table's cached locations (after NotServingRegion or a DDL change)."""
        with self._lock:
            self._tables.pop(table, None)


class Backoff:
    """Waits between attempts after a refusal: 10 ms doubling to 1 s, within a deadline.

    >>> b = Backoff(deadline=1.0, now=lambda: 0.0)
    >>> [b.next_delay() for _ in range(3)]
    [0.01, 0.02, 0.04]
    """

    def __init__(self, deadline: float, now: Callable[[], float]) -> None:
        self.deadline = deadline
        self.now = now
        self._delay = BACKOFF_FIRST_S

    @classmethod
    def for_call(cls, transport: Any, timeout_s: float | None) -> Backoff:
        """The backoff of one call through ``transport``: its deadline is ``timeout_s``
        from now (None: the transport's default), on the transport's clock."""
        clock = getattr(transport, "clock", None)
        now: Callable[[], float] = (
            clock.monotonic_s if clock is not None else _SYSTEM_CLOCK.monotonic_s
        )
        budget = timeout_s
        if budget is None:
            budget = float(getattr(transport, "timeout_s", DEFAULT_BUDGET_S))
        return cls(now() + budget, now)

    def next_delay(self) -> float | None:
        """How long to wait before the next attempt; None when that would pass the deadline."""
        delay = self._delay
        if self.now() + delay > self.deadline:
            return None
        self._delay = min(delay * 2, BACKOFF_MAX_S)
        return delay


class FanOut(Generic[X]):
    """The items of one multi-row call (rows of a multi-get, mutations of a batch),
    split into one part per region, with the parts still to send.

    ``parts(loc)`` groups what is pending by region; ``settle`` takes each part's
    answer (a result, or the exception it raised), keeps the results, puts the parts
    that may be sent again (``resend_or_error``; ``repeatable(item)`` tells whether an
    item may be applied twice, None: every item) back into pending and raises any other
    error.
    """

    def __init__(
        self,
        items: Sequence[X],
        row_of: Callable[[X], bytes],
        repeatable: Callable[[X], bool] | None = None,
    ) -> None:
        self.items = items
        self.repeatable = repeatable
        self.rows = [row_of(x) for x in items]
        self.pending: list[int] = list(range(len(items)))
        self.results: list[tuple[list[int], Any]] = []

    def parts(self, loc: TableLocations) -> list[tuple[str | None, list[int]]]:
        return loc.group(self.rows, self.pending)

    def part_items(self, idx: Sequence[int]) -> list[X]:
        return [self.items[i] for i in idx]

    def settle(self, parts: Sequence[tuple[str | None, list[int]]], answers: Sequence[Any]) -> None:
        """Record the answers of ``parts``; raise NotServingRegion if any part was refused
        (the caller looks the table up again and sends ``parts`` once more)."""
        refused: list[int] = []
        error: BaseException | None = None
        rep = self.repeatable
        for (_region, idx), answer in zip(parts, answers, strict=True):
            if isinstance(answer, BaseException):
                final = resend_or_error(answer, rep is None or all(rep(self.items[i]) for i in idx))
                if final is None:
                    refused.extend(idx)
                else:
                    error = error or final
            else:
                self.results.append((idx, answer))
        self.pending = sorted(refused)
        if error is not None:
            raise error
        if refused:
            raise NotServingRegion(f"{len(refused)} rows found no serving region; look again")

    def per_item(self) -> list[Any]:
        """Each item's answer in the items' order, for calls whose part answers hold one
        entry per item of the part (a multi-get's rows)."""
        out: list[Any] = [None] * len(self.items)
        for idx, got in self.results:
            for i, answer in zip(idx, got, strict=True):
                out[i] = answer
        return out
