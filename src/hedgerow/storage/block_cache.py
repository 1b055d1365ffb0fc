"""LRU cache of decoded blocks, shared by every store of a server, with a byte budget.

Role: sstable_reader looks up ``(file_id, block_offset)`` before reading a
block and inserts the decoded, checksum-verified ``Block`` after a miss; the
store calls ``evict_file`` when a file is deleted (compaction, region close).
Invariants: ``used_bytes`` == sum of charges of cached entries <= ``capacity_bytes``
after every ``put``; ``_by_file`` indexes exactly the cached keys; a key is in at
most one of the two LRU lists (ordinary, in-memory).
Priorities (HBase LruBlockCache's IN_MEMORY): blocks of IN_MEMORY families live in
their own LRU list, allowed up to ``in_memory_fraction`` (25%) of the budget, and are
evicted only after every ordinary block, so scans of other families cannot push
them out.
Concurrency: thread-safe; every method takes ``self._lock`` for a few dict
operations only (no I/O, no decoding under the lock).
Hot path: ``get`` (every block access of every read); see
docs/formats/sstable.md#performance.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from hedgerow._internal import invariants

__all__ = ["BlockCache", "CacheKey"]

#: (file_id, block_offset)
CacheKey = tuple[int, int]


class BlockCache:
    """A thread-safe LRU map ``(file_id, offset) -> block`` bounded by total charge in bytes.

    Reading: ``get(key)`` -> value or None (counts a hit or a miss; a hit makes the
    entry most recently used).
    Writing: ``put(key, value, charge_bytes, in_memory=False)`` inserts or replaces,
    then evicts least recently used entries until the budget holds (ordinary blocks
    first; in-memory ones only beyond their 25% share or when nothing else is left).
    A value whose charge alone exceeds the capacity is not cached.
    Admin: ``evict_file(file_id)``, ``clear()``; counters ``hits``, ``misses``,
    ``evictions``, ``used_bytes``, ``capacity_bytes``, ``stats()``.

    >>> c = BlockCache(100)
    >>> c.put((1, 0), "a", 60); c.put((1, 9), "b", 60)
    >>> c.get((1, 0)), c.get((1, 9)), c.evictions, c.used_bytes
    (None, 'b', 1, 60)
    """

    def __init__(self, capacity_bytes: int, *, in_memory_fraction: float = 0.25) -> None:
        if capacity_bytes < 0:
            raise ValueError(f"capacity_bytes must be >= 0, got {capacity_bytes}")
        # constant after __init__
        self.capacity_bytes = capacity_bytes
        self.in_memory_capacity = int(capacity_bytes * in_memory_fraction)
        self._lock = threading.Lock()
        # guarded by self._lock
        self._entries: OrderedDict[CacheKey, tuple[object, int]] = OrderedDict()
        self._memory: OrderedDict[CacheKey, tuple[object, int]] = OrderedDict()
        self._memory_used = 0
        self._by_file: dict[int, set[int]] = {}
        self._used = 0
        self._hits = 0
        self._misses = 0
        self._evictions = 0

    # -- reading -----------------------------------------------------------------
    def get(self, key: CacheKey) -> object | None:
        """The cached value for ``key``, or None. O(1)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:  # fast path: an ordinary block
                self._entries.move_to_end(key)
            else:
                entry = self._memory.get(key)
                if entry is None:
                    self._misses += 1
                    return None
                self._memory.move_to_end(key)
            self._hits += 1
        return entry[0]

    # -- writing -----------------------------------------------------------------
    def put(
        self, key: CacheKey, value: object, charge_bytes: int, *, in_memory: bool = False
    ) -> None:
        """Insert or replace ``key``; evict LRU entries until ``used_bytes <= capacity``."""
        if charge_bytes > self.capacity_bytes:
            return  # would evict everything and then itself
        entries, memory = self._entries, self._memory
        with self._lock:
            old = entries.pop(key, None)
            if old is None:
                old = memory.pop(key, None)
                if old is not None:
                    self._memory_used -= old[1]
            if old is not None:
                self._used -= old[1]
            else:
                self._by_file.setdefault(key[0], set()).add(key[1])
            if in_memory:
                memory[key] = (value, charge_bytes)
                self._memory_used += charge_bytes
            else:
                entries[key] = (value, charge_bytes)
            self._used += charge_bytes
            while self._used > self.capacity_bytes:
                if entries and self._memory_used <= self.in_memory_capacity:
                    (file_id, offset), (_, charge) = entries.popitem(last=False)
                else:
                    (file_id, offset), (_, charge) = memory.popitem(last=False)
                    self._memory_used -= charge
                self._used -= charge
                self._evictions += 1
                self._forget(file_id, offset)
            if invariants.ENABLED and len(entries) + len(memory) <= 512:  # _check is O(n)
                self._check()

    def _forget(self, file_id: int, offset: int) -> None:
        offsets = self._by_file.get(file_id)
        if offsets is not None:
            offsets.discard(offset)
            if not offsets:
                del self._by_file[file_id]

    # -- admin -------------------------------------------------------------------
    def evict_file(self, file_id: int) -> int:
        """Drop every cached block of ``file_id`` (the file was deleted); return how many.

        Not counted as evictions. O(blocks of that file).
        """
        with self._lock:
            offsets = self._by_file.pop(file_id, set())
            for offset in offsets:
                entry = self._entries.pop((file_id, offset), None)
                if entry is None:
                    entry = self._memory.pop((file_id, offset))
                    self._memory_used -= entry[1]
                self._used -= entry[1]
            return len(offsets)

    def clear(self) -> None:
        """Drop everything (counters are kept)."""
        with self._lock:
            self._entries.clear()
            self._memory.clear()
            self._by_file.clear()
            self._used = 0
            self._memory_used = 0

    @property
    def hits(self) -> int:
        return self._hits

    @property
    def misses(self) -> int:
        return self._misses

    @property
    def evictions(self) -> int:
        return self._evictions

    @property
    def used_bytes(self) -> int:
        return self._used

    def __len__(self) -> int:
        return len(self._entries) + len(self._memory)

    def stats(self) -> dict[str, int]:
        """A consistent snapshot of the counters."""
        with self._lock:
            return {
                "capacity_bytes": self.capacity_bytes,
                "used_bytes": self._used,
                "in_memory_bytes": self._memory_used,
                "entries": len(self._entries) + len(self._memory),
                "hits": self._hits,
                "misses": self._misses,
                "evictions": self._evictions,
            }

    def _check(self) -> None:
        """Assert every invariant (caller holds ``self._lock``)."""
        mem = sum(charge for _, charge in self._memory.values())
        total = sum(charge for _, charge in self._entries.values()) + mem
        assert total == self._used, f"used_bytes {self._used} != sum of charges {total}"
        assert mem == self._memory_used, f"in-memory bytes {self._memory_used} != {mem}"
        assert self._used <= self.capacity_bytes, f"over budget: {self._stats_unlocked()}"
        assert not (set(self._entries) & set(self._memory)), "a key in both LRU lists"
        indexed = {(f, o) for f, offs in self._by_file.items() for o in offs}
        cached = set(self._entries) | set(self._memory)
        assert indexed == cached, f"file index {sorted(indexed)} != cached keys {sorted(cached)}"

    def _stats_unlocked(self) -> dict[str, int]:
        return {
            "capacity_bytes": self.capacity_bytes,
            "used_bytes": self._used,
            "entries": len(self._entries) + len(self._memory),
        }
