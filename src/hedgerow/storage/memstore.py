"""Memstore: the in-memory sorted buffer of one store's recent writes.

Role: writes land here (after the WAL); reads merge it with store files;
when the region's memstores pass the flush threshold the active memstore is
frozen into a snapshot, written out as a store file by the flusher, then
dropped.
Format: none (in memory). Entries are ``internal key -> value``
(hedgerow.model.keys), so ordering is a plain bytes comparison in C.
Invariants: keys unique; ``size_bytes`` is the sum of key and value lengths
plus a fixed per-entry overhead; a frozen memstore is never written again.
Concurrency: ``add``/``add_many`` and the chunked iterator take ``self._lock``;
an iterator copies at most ``_CHUNK`` entries per lock hold, so a long scan
never blocks writers for long and never sees the structure mid-update. MVCC
(sequence numbers in the keys) hides entries newer than the reader's read
point.
Hot path: ``add`` (every write) and ``iter_range`` (every read); bench/engine.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

from sortedcontainers import SortedList

from hedgerow._internal import invariants

__all__ = ["MemStore"]

# Python object overhead per entry (list slot, dict slot, two bytes headers), measured
# roughly with sys.getsizeof; used only to decide when to flush.
_ENTRY_OVERHEAD = 120
_CHUNK = 256


class MemStore:
    """A sorted map of internal key to value, safe for one writer thread at a time per lock."""

    def __init__(self) -> None:
        self._keys: SortedList = SortedList()  # guarded by self._lock
        self._values: dict[bytes, bytes] = {}  # guarded by self._lock
        self._lock = threading.Lock()
        self.size_bytes = 0  # guarded by self._lock
        self.frozen = False

    def __len__(self) -> int:
        return len(self._values)

    def add(self, key: bytes, value: bytes) -> None:
        """Insert one entry (O(log n))."""
        with self._lock:
            if self.frozen:
                raise RuntimeError("write to a frozen memstore")
            old = self._values.get(key)
            if old is None:
                self._keys.add(key)
                self.size_bytes += len(key) + len(value) + _ENTRY_OVERHEAD
            else:
                self.size_bytes += len(value) - len(old)
            self._values[key] = value

    def add_many(self, entries: Iterable[tuple[bytes, bytes]]) -> int:
        """Insert several entries under one lock hold; returns the bytes added."""
        added = 0
        with self._lock:
            if self.frozen:
                raise RuntimeError("write to a frozen memstore")
            # hoisted for the loop (attribute lookups cost more than the work)
            keys_add = self._keys.add
            values = self._values
            for key, value in entries:
                old = values.get(key)
                if old is None:
                    keys_add(key)
                    added += len(key) + len(value) + _ENTRY_OVERHEAD
                else:
                    added += len(value) - len(old)
                values[key] = value
            self.size_bytes += added
        return added

    def remove_many(self, keys: Iterable[bytes]) -> None:
        """Take out entries a failed write inserted (its sequence number is not complete,
        so no reader has seen them). Allowed on a frozen memstore: its flush waits for
        that sequence number before reading it."""
        with self._lock:
            values = self._values
            for key in keys:
                value = values.pop(key, None)
                if value is not None:
                    self._keys.remove(key)
                    self.size_bytes -= len(key) + len(value) + _ENTRY_OVERHEAD

    def freeze(self) -> None:
        """Make the memstore read-only (it becomes a flush snapshot)."""
        with self._lock:
            self.frozen = True

    def iter_range(
        self, start: bytes = b"", stop: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        """Yield ``(key, value)`` for ``start <= key < stop`` in key order.

        Copies up to 256 entries per lock hold, then resumes after the last key
        it yielded, so concurrent inserts are safe.
        """
        keys = self._keys
        values = self._values
        lock = self._lock
        lo = start
        include_lo = True
        while True:
            with lock:
                i = keys.bisect_left(lo) if include_lo else keys.bisect_right(lo)
                chunk: list[bytes] = keys[i : i + _CHUNK]
                vals = [values[k] for k in chunk]
            if not chunk:
                return
            if stop is not None and chunk[-1] >= stop:
                for k, v in zip(chunk, vals, strict=True):
                    if k >= stop:
                        return
                    yield k, v
                return
            yield from zip(chunk, vals, strict=True)
            if len(chunk) < _CHUNK:
                return
            lo = chunk[-1]
            include_lo = False

    def last_key_before(self, key: bytes) -> bytes | None:
        """The greatest key ``< key``, or None (used by reverse scans)."""
        with self._lock:
            i = self._keys.bisect_left(key)
            return self._keys[i - 1] if i > 0 else None

    def first_key(self) -> bytes | None:
        with self._lock:
            return self._keys[0] if self._keys else None

    def last_key(self) -> bytes | None:
        with self._lock:
            return self._keys[-1] if self._keys else None

    def _check(self) -> None:
        """Assert the invariants (only when invariants are enabled)."""
        if not invariants.ENABLED:
            return
        with self._lock:
            assert len(self._keys) == len(self._values), "key list and value map disagree"
            assert all(k in self._values for k in self._keys), "key without value"
            self._keys._check()
