"""Multi-version concurrency control: write numbers and the region's read point.

Role: every write to a region takes a sequence number with ``begin`` (under
the region's update lock, in the same critical section that inserts its
cells into the memstore), makes itself durable, then calls ``complete``.
Readers take ``read_point`` and ignore cells with a higher sequence number,
so no reader ever sees part of a row mutation (HBase
MultiVersionConcurrencyControl).
Invariants: ``read_point`` = the highest sequence number ``s`` such that
every write numbered ``<= s`` has completed; it never goes backwards.
Concurrency: all state guarded by ``self._cond``.
"""

from __future__ import annotations

import threading
from collections import deque

__all__ = ["MVCC"]


class MVCC:
    """Write numbers and the read point of one region."""

    def __init__(self, start_seq: int) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._read_point = start_seq  # guarded by self._cond
        self._next = start_seq + 1  # guarded by self._cond
        self._pending: deque[int] = deque()  # guarded by self._cond
        self._done: set[int] = set()  # guarded by self._cond

    @property
    def read_point(self) -> int:
        return self._read_point

    @property
    def last_assigned(self) -> int:
        """The highest sequence number handed out so far."""
        return self._next - 1

    def begin(self) -> int:
        """Assign the next sequence number."""
        with self._cond:
            seq = self._next
            self._next = seq + 1
            self._pending.append(seq)
            return seq

    def complete(self, seq: int) -> None:
        """Mark ``seq`` finished and advance the read point past every finished prefix."""
        with self._cond:
            pending = self._pending
            if pending and pending[0] == seq:
                pending.popleft()
                rp = seq
                done = self._done
                while pending and pending[0] in done:
                    rp = pending.popleft()
                    done.discard(rp)
                self._read_point = rp
                self._cond.notify_all()
            else:
                self._done.add(seq)

    def wait_for(self, seq: int, timeout_s: float | None = None) -> bool:
        """Block until the read point reaches ``seq`` (write visible to readers)."""
        if self._read_point >= seq:  # fast path: an int read is atomic under the GIL
            return True
        with self._cond:
            return self._cond.wait_for(lambda: self._read_point >= seq, timeout_s)

    def advance_to(self, seq: int) -> None:
        """Jump forward after recovery (no writes in flight)."""
        with self._cond:
            if self._pending:
                raise RuntimeError("advance_to with writes in flight")
            if seq > self._read_point:
                self._read_point = seq
                self._next = seq + 1
