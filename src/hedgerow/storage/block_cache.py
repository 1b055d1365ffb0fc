"""The block cache: decoded blocks keyed ``(file_id, block_offset)``, shared by every store.

Role: sstable_reader looks blocks up before reading them and inserts the decoded,
checksum-verified ``Block`` after a miss; the store calls ``evict_file`` when a file is
deleted (compaction, region close); the engine reports ``stats()``.
The cache itself is the Rust core's ``hedgerow._core.BlockCache`` (rust/src/sstable/cache.rs,
RFC 0002 phase 2): a sharded LRU bounded by bytes, each shard under its own lock, with
HBase LruBlockCache's IN_MEMORY priority (blocks of IN_MEMORY families in their own list,
up to 25% of the budget, evicted after every ordinary block). Caches under 64 MiB have
one shard, so their LRU order is exact.

    >>> c = BlockCache(100)
    >>> c.put((1, 0), "a", 60); c.put((1, 9), "b", 60)
    >>> c.get((1, 0)), c.get((1, 9)), c.evictions, c.used_bytes
    (None, 'b', 1, 60)
"""

from __future__ import annotations

from hedgerow._core import BlockCache

__all__ = ["BlockCache", "CacheKey"]

#: (file_id, block_offset)
CacheKey = tuple[int, int]
