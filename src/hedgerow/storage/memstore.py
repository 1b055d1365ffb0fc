"""Memstore: the in-memory sorted buffer of one store's recent writes.

Role: writes land here (after the WAL); reads merge it with store files;
when the region's memstores pass the flush threshold the active memstore is
frozen into a snapshot, written out as a store file by the flusher, then
dropped. The map itself is the compiled core's ``MemStore`` (rust/src/memstore.rs:
a ``BTreeMap`` under a ``RwLock``, with batch calls ``add_cells``, ``scan`` and
``items``); this class adds the ``iter_range`` generator the merging readers use.
Format: none (in memory). Entries are ``internal key -> value``
(hedgerow.model.keys), ordered as plain bytes.
Invariants: keys unique; ``size_bytes`` is the sum of key and value lengths
plus 120 bytes per entry (the unit the flush threshold was tuned in); a frozen
memstore is never written again (except a failed write's rollback).
Concurrency: every core method takes the map's lock once; ``iter_range``
copies at most ``_CHUNK`` entries per lock hold (``scan``), so a long scan
never blocks writers for long and never sees the structure mid-update. No
Python code runs under the lock. MVCC (sequence numbers in the keys) hides
entries newer than the reader's read point.
Hot path: ``add_cells`` (every write) and ``iter_range``/``items`` (every read);
bench/engine.py.
"""

from __future__ import annotations

from collections.abc import Iterator

from hedgerow import _core

__all__ = ["MemStore"]

_CHUNK = 256


class MemStore(_core.MemStore):
    """A sorted map of internal key to value; concurrent readers, one writer at a time."""

    __slots__ = ()

    def iter_range(
        self, start: bytes = b"", stop: bytes | None = None
    ) -> Iterator[tuple[bytes, bytes]]:
        """Yield ``(key, value)`` for ``start <= key < stop`` in key order.

        Copies up to 256 entries per lock hold, then resumes after the last key
        it yielded, so concurrent inserts are safe.
        """
        scan = self.scan
        chunk = scan(start, True, stop, _CHUNK)
        while True:
            yield from chunk
            if len(chunk) < _CHUNK:
                return
            chunk = scan(chunk[-1][0], False, stop, _CHUNK)
