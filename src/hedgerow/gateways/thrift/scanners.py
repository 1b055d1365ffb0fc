"""Open Thrift scanners: ids, per-scanner locks, and lease expiry.

Role: ``HbaseHandler`` registers the row iterator of every ``scannerOpen*`` call
here and gets an id back (a counter from 0, as HBase's ``addScanner``);
``scannerGet*``/``scannerClose`` look it up. A scanner not touched for
``lease_s`` seconds (its client vanished without ``scannerClose``) is closed
and forgotten by ``reap`` (HBase: ``hbase.client.scanner.timeout.period``,
60 s); a later call with its id gets "scanner ID is invalid".
Invariants: an id is never handed out twice while its scanner is registered;
a reaped or closed scanner's iterator has been ``close()``d.
Concurrency: the registry is guarded by ``ScannerRegistry._lock``; each
scanner has its own lock so two calls on one id never run the iterator at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from hedgerow.errors import InvalidArgument

__all__ = ["Scanner", "ScannerRegistry"]


class Scanner:
    """One open scanner: a row iterator plus how to shape its rows."""

    def __init__(self, rows: Iterator[tuple[bytes, Any]], sort_columns: bool, now: float) -> None:
        # constant after __init__
        self.rows = rows
        self.sort_columns = sort_columns
        self.lock = threading.Lock()
        # guarded by ScannerRegistry._lock
        self.last_used_s = now
        self.closed = False

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()


class ScannerRegistry:
    """Scanners by id, with a lease. ``clock`` returns monotonic seconds."""

    def __init__(self, lease_s: float, clock: Callable[[], float]) -> None:
        if lease_s <= 0:
            raise InvalidArgument(f"scanner lease must be positive seconds, got {lease_s!r}")
        # constant after __init__
        self.lease_s = lease_s
        self._clock = clock
        self._lock = threading.Lock()
        # guarded by self._lock
        self._next_id = 0
        self._scanners: dict[int, Scanner] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._scanners)

    def add(self, rows: Iterator[tuple[bytes, Any]], sort_columns: bool) -> int:
        with self._lock:
            s = Scanner(rows, sort_columns, self._clock())
            sid = self._next_id
            while sid in self._scanners:  # only after 2**31 opens
                sid = (sid + 1) & 0x7FFFFFFF
            self._next_id = (sid + 1) & 0x7FFFFFFF
            self._scanners[sid] = s
            return sid

    def get(self, sid: int) -> Scanner:
        """The scanner, its lease renewed; IllegalArgument-mapped error if unknown."""
        with self._lock:
            s = self._scanners.get(sid)
            if s is None:
                raise InvalidArgument("scanner ID is invalid")
            s.last_used_s = self._clock()
            return s

    def touch(self, s: Scanner) -> None:
        with self._lock:
            s.last_used_s = self._clock()

    def remove(self, sid: int) -> Scanner:
        with self._lock:
            s = self._scanners.pop(sid, None)
            if s is None:
                raise InvalidArgument("scanner ID is invalid")
            s.closed = True
        with s.lock:
            s.close()
        return s

    def reap(self) -> int:
        """Close every scanner whose lease ran out; returns how many."""
        now = self._clock()
        with self._lock:
            dead = [
                (sid, s)
                for sid, s in self._scanners.items()
                if now - s.last_used_s > self.lease_s and not s.lock.locked()
            ]
            for sid, s in dead:
                del self._scanners[sid]
                s.closed = True
        for _, s in dead:
            with s.lock:
                s.close()
        return len(dead)

    def close_all(self) -> None:
        with self._lock:
            alive, self._scanners = list(self._scanners.values()), {}
        for s in alive:
            s.closed = True
            with s.lock:
                s.close()
