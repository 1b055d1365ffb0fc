"""Open store-file handles, bounded: an LRU of OS file handles (LevelDB's table cache).

Role: the region server makes one ``TableCache`` (engine option ``max_open_files``)
and every store opens its files through it (``TableCache.open``). An SSTableReader
keeps what it decoded at open (footer, root index, bloom filter, properties) and
reads blocks with ``pread`` on the ``CachedFile`` it got; the cache keeps at most
``capacity`` handles open, closing the least recently used idle one when it needs
another, and a ``CachedFile`` whose handle was closed opens it again on its next
read. LevelDB's TableCache holds whole tables (index and filter included); here
those stay with the reader, which is small next to an OS handle, and only handles
are rationed. See docs/design/storage.md#open-files.
Invariants: a handle is closed only when no ``pread``/``size`` call is using it
(each call pins it for its duration); open handles <= ``capacity`` + handles
pinned at once (at most one per thread inside a read); a closed ``CachedFile``
holds no handle once its last read returns; ``_lru`` holds exactly the files
whose handle is open, least recently used first.
Concurrency: thread-safe; ``_lock`` guards ``_lru`` and every CachedFile's
``_handle``/``_pins``/``_closed``. Files are opened and closed outside the lock
(a slow file system stalls only the reader that needs the file).
Hot path: ``CachedFile.pread`` on a block-cache miss (one lock round and a dict
move when the handle is open); bench/bench_table_cache.py.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from hedgerow._internal import invariants
from hedgerow.errors import ClosedError, CorruptionError, RegionClosed
from hedgerow.storage.fs import FileSystem, RandomAccessFile

__all__ = ["CachedFile", "TableCache"]


def _never() -> bool:
    return False


class CachedFile:
    """A store file read through a ``TableCache``: a ``RandomAccessFile`` whose OS handle
    may be closed while idle and is reopened on demand.

    ``owner_closed`` tells a reopen that finds the file gone whether that is expected
    (the store was closed, and its region's directory removed after a split, merge,
    truncate or delete: ``RegionClosed``, so the request is routed again) or not
    (``CorruptionError``: a live store's file is missing).
    """

    __slots__ = ("path", "_cache", "_owner_closed", "_handle", "_pins", "_closed", "_size")

    def __init__(self, cache: TableCache, path: str, owner_closed: Callable[[], bool]) -> None:
        # constant after __init__
        self.path = path
        self._cache = cache
        self._owner_closed = owner_closed
        # guarded by cache._lock
        self._handle: RandomAccessFile | None = None
        self._pins = 0
        self._closed = False
        self._size = -1  # store files never change size; learned at the first size()

    def pread(self, n: int, offset: int) -> bytes:
        cache = self._cache
        handle = cache._acquire(self)
        try:
            return handle.pread(n, offset)
        finally:
            cache._release(self)

    def size(self) -> int:
        if self._size < 0:
            cache = self._cache
            handle = cache._acquire(self)
            try:
                self._size = handle.size()
            finally:
                cache._release(self)
        return self._size

    def close(self) -> None:
        """Close for good (the reader is closed): the handle goes now, or when the read
        using it returns."""
        self._cache._close(self)

    def _missing(self) -> Exception:
        if self._owner_closed():
            return RegionClosed(
                f"store file {self.path} was removed after its store closed (its region was "
                "split, merged, truncated or deleted); route the request again"
            )
        return CorruptionError("store file is missing (it was open before)", self.path)


class TableCache:
    """At most ``capacity`` open store-file handles; the least recently used idle one is
    closed when another is needed.

    - opening: ``open(path)`` (no I/O: the handle is opened at the first read)
    - reporting: ``stats()``, ``open_handles``

    >>> import os, tempfile
    >>> from hedgerow.storage.fs import LocalFS
    >>> d = tempfile.mkdtemp()
    >>> for i in range(3):
    ...     with open(os.path.join(d, str(i)), "wb") as f:
    ...         _ = f.write(b"abc%d" % i)
    >>> cache = TableCache(LocalFS(), capacity=2)
    >>> files = [cache.open(os.path.join(d, str(i))) for i in range(3)]
    >>> [f.pread(1, 3) for f in files], cache.open_handles
    ([b'0', b'1', b'2'], 2)
    >>> files[0].pread(4, 0), cache.stats()["opens"], cache.stats()["evictions"]
    (b'abc0', 4, 2)
    >>> for f in files: f.close()
    >>> cache.open_handles
    0
    """

    def __init__(self, fs: FileSystem, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"a table cache needs a capacity >= 1, got {capacity}")
        # constant after __init__
        self._fs = fs
        self.capacity = capacity
        # guarded by self._lock
        self._lock = threading.Lock()
        self._lru: OrderedDict[CachedFile, None] = OrderedDict()
        self._pinned = 0  # files with a read in progress (pins > 0)
        self._opens = 0
        self._evictions = 0

    def open(self, path: str, *, owner_closed: Callable[[], bool] = _never) -> CachedFile:
        """A file to read ``path`` through this cache (opened at its first read)."""
        return CachedFile(self, path, owner_closed)

    @property
    def open_handles(self) -> int:
        with self._lock:
            return len(self._lru)

    def stats(self) -> dict[str, Any]:
        """``open_files`` now, ``capacity``, ``opens`` and ``evictions`` so far."""
        with self._lock:
            return {
                "open_files": len(self._lru),
                "capacity": self.capacity,
                "opens": self._opens,
                "evictions": self._evictions,
            }

    # ---- used by CachedFile ------------------------------------------------------------
    def _acquire(self, f: CachedFile) -> RandomAccessFile:
        """``f``'s handle, pinned (opened, and an idle one closed, if need be)."""
        with self._lock:
            if f._closed:
                raise ClosedError(f"store file {f.path} is closed")
            f._pins += 1
            if f._pins == 1:
                self._pinned += 1
            handle = f._handle
            if handle is not None:  # fast path: open already
                self._lru.move_to_end(f)
                return handle
        # slow path: open it outside the lock
        try:
            handle = self._fs.open_read(f.path)
        except BaseException as e:
            self._release(f)
            if isinstance(e, FileNotFoundError):
                raise f._missing() from None
            raise
        extra: RandomAccessFile | None = None
        with self._lock:
            if f._handle is None:
                f._handle = handle
                self._lru[f] = None
                self._opens += 1
            else:  # another reader opened it meanwhile: use that one
                extra, handle = handle, f._handle
                self._lru.move_to_end(f)
            victims = self._evict_locked()
        if extra is not None:
            extra.close()
        for v in victims:
            v.close()
        return handle

    def _release(self, f: CachedFile) -> None:
        with self._lock:
            f._pins -= 1
            if f._pins == 0:
                self._pinned -= 1
            victims = []
            if f._pins == 0 and f._closed and f._handle is not None:
                victims.append(f._handle)
                f._handle = None
                del self._lru[f]
            elif len(self._lru) > self.capacity:  # handles pinned earlier are idle now
                victims = self._evict_locked()
            if invariants.ENABLED:
                assert len(self._lru) <= self.capacity + self._pinned, self._state()
        for v in victims:
            v.close()

    def _close(self, f: CachedFile) -> None:
        with self._lock:
            if f._closed:
                return
            f._closed = True
            handle = f._handle
            if f._pins or handle is None:
                return  # the last reader closes it
            f._handle = None
            del self._lru[f]
        handle.close()

    def _evict_locked(self) -> list[RandomAccessFile]:
        """Take idle handles, least recently used first, until at most ``capacity`` are
        open; the caller closes them after releasing the lock. Pinned handles stay."""
        excess = len(self._lru) - self.capacity
        if excess <= 0:
            return []
        idle = []
        for g in self._lru:
            if g._pins == 0:
                idle.append(g)
                if len(idle) == excess:
                    break
        victims = []
        for g in idle:
            del self._lru[g]
            assert g._handle is not None
            victims.append(g._handle)
            g._handle = None
        self._evictions += len(victims)
        return victims

    def _check(self) -> None:
        """Assert every invariant (tests; the bound alone is checked after each read when
        invariants are on)."""
        with self._lock:
            pinned = 0
            for f in self._lru:
                assert f._handle is not None, f"{f.path}: in the LRU without a handle"
                assert f._pins >= 0, f"{f.path}: {f._pins} pins"
                pinned += f._pins > 0
            assert pinned <= self._pinned, self._state()
            assert len(self._lru) <= self.capacity + self._pinned, self._state()

    def _state(self) -> str:
        return (
            f"TableCache: {len(self._lru)} open handles, capacity {self.capacity}, "
            f"{self._pinned} pinned: {[(f.path, f._pins) for f in self._lru]}"
        )
