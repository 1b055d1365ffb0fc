"""Store: one column family of one region: memstores plus immutable store files.

Role: the region writes cells into ``active`` (under its update lock), reads
through ``sources``, and drives ``freeze``/``write_snapshot``/``install`` for a
flush and ``pick_compaction``/``compact``/``install`` for compactions. The
region persists every change of the file set in its manifest; the store only
builds files and swaps its in-memory view.
Invariants: ``_files`` is ordered newest first (by max sequence number); a
file leaves the set only after its replacement is in the manifest; a removed
file is closed and deleted only when no reader holds it (reference counts).
Concurrency: ``_lock`` guards ``active``, ``_snapshots`` and ``_files``; file
and memstore objects are themselves thread-safe; one flush and one compaction
per store at a time (the region's scheduler guarantees it).
Hot path: ``sources`` (every read) and ``active.add_many`` (every write).
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from hedgerow._internal.gil import yield_gil
from hedgerow.errors import RegionClosed
from hedgerow.model.keys import row_end, row_prefix
from hedgerow.model.schema import ColumnFamilyDescriptor
from hedgerow.storage.block_cache import BlockCache
from hedgerow.storage.fs import FileSystem
from hedgerow.storage.memstore import MemStore
from hedgerow.storage.sstable_reader import SSTableReader
from hedgerow.storage.sstable_writer import SSTableWriter
from hedgerow.storage.table_cache import TableCache
from hedgerow.storage.version_edit import FileMeta

__all__ = ["Store", "StoreFile", "merged_entries", "write_store_file"]

log = logging.getLogger("hedgerow.store")

Entries = Iterator[tuple[bytes, bytes]]


class StoreFile:
    """A store file in use: its metadata, an open reader and a reference count."""

    __slots__ = ("meta", "reader", "path", "_refs", "_lock", "_obsolete", "_on_delete")

    def __init__(
        self,
        meta: FileMeta,
        reader: SSTableReader,
        path: str,
        on_delete: Callable[[StoreFile], None],
    ) -> None:
        self.meta = meta
        self.reader = reader
        self.path = path
        self._refs = 1  # the store's own reference
        self._lock = threading.Lock()
        self._obsolete = False
        self._on_delete = on_delete

    def ref(self) -> None:
        with self._lock:
            self._refs += 1

    def unref(self) -> None:
        with self._lock:
            self._refs -= 1
            dead = self._refs == 0
        if dead:
            self._on_delete(self)

    def mark_obsolete(self) -> None:
        """Drop the store's reference; the file goes when the last reader lets go."""
        self._obsolete = True
        self.unref()


@dataclass
class Snapshot:
    """A frozen memstore waiting to be flushed."""

    memstore: MemStore


def _refcounted(files: list[StoreFile], it: Entries) -> Entries:
    try:
        yield from it
    finally:
        for f in files:
            f.unref()


class Store:
    """One column family's data in one region."""

    def __init__(
        self,
        fs: FileSystem,
        region_dir: str,
        cf: ColumnFamilyDescriptor,
        cache: BlockCache | None,
        path_for: Callable[[bytes, int], str],
        *,
        table_cache: TableCache | None = None,
    ) -> None:
        # constant after __init__
        self.fs = fs
        self.region_dir = region_dir
        self.cf = cf
        self.family = cf.name
        self._cache = cache
        self._path_for = path_for
        #: rations open file handles across the region server (None: one per file)
        self._table_cache = table_cache
        # guarded by self._lock
        self._lock = threading.Lock()
        self.active = MemStore()
        self._snapshots: list[MemStore] = []  # newest first
        self._files: list[StoreFile] = []  # newest first
        self._compacting: set[int] = set()
        self.closed = False  # guarded by self._lock; reads fail with RegionClosed after close

    # ---- opening -------------------------------------------------------------
    def open_files(self, metas: list[FileMeta]) -> None:
        """Open the store files the manifest lists (at region open)."""
        files = [self._open_file(m) for m in metas]
        files.sort(key=lambda f: f.meta.max_seq, reverse=True)
        with self._lock:
            self._files = files

    def _open_file(self, meta: FileMeta) -> StoreFile:
        path = self._path_for(self.family, meta.file_number)
        tc = self._table_cache
        reader = SSTableReader.open(
            self.fs,
            path,
            file_id=_file_id(self.region_dir, self.family, meta.file_number),
            cache=self._cache,
            cache_blocks=self.cf.block_cache_enabled,
            # a reopen that finds the file gone after close (the region's directory was
            # removed) is RegionClosed, not corruption
            file=None if tc is None else tc.open(path, owner_closed=lambda: self.closed),
        )
        reader.in_memory = self.cf.in_memory
        return StoreFile(meta, reader, path, self._delete_file)

    def _delete_file(self, f: StoreFile) -> None:
        f.reader.close()
        if self._cache is not None:
            self._cache.evict_file(_file_id(self.region_dir, self.family, f.meta.file_number))
        if f._obsolete:
            try:
                self.fs.remove(f.path)
            except (
                OSError
            ) as e:  # only space is lost (no manifest names it); never a reader's error
                log.warning("could not delete obsolete store file %s: %r", f.path, e)

    def close(self) -> None:
        with self._lock:
            self.closed = True
            files, self._files = self._files, []
        for f in files:
            f.unref()

    def _closed_error(self) -> RegionClosed:
        return RegionClosed(
            f"the store of family {self.family.decode('utf-8', 'backslashreplace')!r} in "
            f"{self.region_dir} is closed (its region is being split, merged or reopened)"
        )

    # ---- reading -------------------------------------------------------------
    def memstore_size(self) -> int:
        with self._lock:
            if not self._snapshots:  # fast path: checked twice per write
                return self.active.size_bytes
            return self.active.size_bytes + sum(m.size_bytes for m in self._snapshots)

    def file_metas(self) -> list[FileMeta]:
        with self._lock:
            return [f.meta for f in self._files]

    def sources(
        self, start: bytes, stop: bytes | None, *, row: bytes | None = None
    ) -> list[Entries]:
        """Key-ordered iterators over every source for keys in ``[start, stop)``.

        With ``row`` (a point read) files whose bloom filter or key range rule
        the row out are skipped.
        """
        with self._lock:
            if self.closed:
                raise self._closed_error()
            mems = [self.active, *self._snapshots]
            files = list(self._files)
            for f in files:
                f.ref()
        its: list[Entries] = [m.iter_range(start, stop) for m in mems if len(m)]
        used: list[StoreFile] = []
        for f in files:
            m = f.meta
            if (stop is not None and m.first_key >= stop) or m.last_key < start:
                f.unref()
                continue
            if row is not None and not f.reader.may_contain_row(row):
                f.unref()
                continue
            used.append(f)
            if row is not None and stop is not None:
                its.append(iter(f.reader.get_row(start, stop)))
            else:
                its.append(f.reader.iter_from(start, stop))
        if used:
            return [_refcounted(used, merged_entries(its))]
        return its

    def point_entries(
        self,
        row: bytes,
        start: bytes,
        stop: bytes,
        qualifiers: frozenset[bytes] | None = None,
    ) -> list[tuple[bytes, bytes]]:
        """Every entry of one row (``start``/``stop`` = keys.row_prefix/row_end), as a list.

        With ``qualifiers`` (the get reads only those columns of this family), files
        whose ROWCOL bloom filter holds none of them, and no family-level delete
        marker (qualifier b""), are skipped: HBase's ROWCOL bloom on a column get.

        The point-read twin of ``sources`` + ``merged``: the same sources in the same
        order (memstores, then files newest first; bloom and key range rule files
        out), but read eagerly, so file references are released before returning and
        no generator is stacked per source (the get hot path, bench/engine.py).
        """
        with self._lock:
            if self.closed:
                raise self._closed_error()
            mems = [self.active, *self._snapshots] if self._snapshots else [self.active]
            files = list(self._files)
            for f in files:
                f.ref()
        srcs: list[list[tuple[bytes, bytes]]] = []
        try:
            for m in mems:
                if len(m):
                    e = m.items(start, stop)
                    if e:
                        srcs.append(e)
            for f in files:
                meta = f.meta
                if meta.first_key >= stop or meta.last_key < start:
                    continue
                reader = f.reader
                if not reader.may_contain_row(row):
                    continue
                if qualifiers is not None and not (
                    reader.may_contain_rowcol(row, b"")
                    or any(reader.may_contain_rowcol(row, q) for q in qualifiers)
                ):
                    continue
                e = reader.get_row(start, stop)
                if e:
                    srcs.append(e)
        finally:
            for f in files:
                f.unref()
        if not srcs:
            return []
        if len(srcs) == 1:
            return srcs[0]
        return list(heapq.merge(*srcs))

    def merged(self, start: bytes, stop: bytes | None, *, row: bytes | None = None) -> Entries:
        """One key-ordered iterator over all sources."""
        its = self.sources(start, stop, row=row)
        if len(its) == 1:
            return its[0]
        return merged_entries(its)

    def row_entries(self, row: bytes) -> Entries:
        return self.merged(row_prefix(row), row_end(row), row=row)

    def last_row_key_before(self, key: bytes) -> bytes | None:
        """The greatest internal key ``< key`` over all sources (reverse scans)."""
        with self._lock:
            if self.closed:
                raise self._closed_error()
            mems = [self.active, *self._snapshots]
            files = list(self._files)
            for f in files:
                f.ref()
        best: bytes | None = None
        try:
            for m in mems:
                k = m.last_key_before(key)
                if k is not None and (best is None or k > best):
                    best = k
            for f in files:
                if f.meta.first_key >= key:
                    continue
                k = f.reader.last_key_before(key)
                if k is not None and (best is None or k > best):
                    best = k
        finally:
            for f in files:
                f.unref()
        return best

    # ---- flushing ------------------------------------------------------------
    def freeze(self) -> list[MemStore]:
        """Turn the active memstore into a snapshot (caller holds the region update lock);
        return every snapshot waiting to be flushed, newest first: a flush writes them all,
        those of earlier failed flushes included (their edits are only there and in the
        WAL, which the flush's flushed seq lets go)."""
        with self._lock:
            if len(self.active):
                snap = self.active
                snap.freeze()
                self.active = MemStore()
                self._snapshots.insert(0, snap)
            return list(self._snapshots)

    def write_file(self, entries: Entries, file_number: int, created_ms: int) -> FileMeta | None:
        """Write ``entries`` (key order) as store file ``file_number``; None if empty."""
        path = self._path_for(self.family, file_number)
        return write_store_file(self.fs, path, self.cf, entries, file_number, created_ms)

    def file_path(self, file_number: int) -> str:
        return self._path_for(self.family, file_number)

    def paths_of(self, chosen: list[FileMeta]) -> list[str]:
        """The paths of the chosen files (a compaction in a worker process reads them)."""
        numbers = {m.file_number for m in chosen}
        with self._lock:
            return [f.path for f in self._files if f.meta.file_number in numbers]

    def open_new(self, added: list[FileMeta]) -> list[StoreFile]:
        """Open the files a flush or compaction wrote, before the manifest records them
        (reading a file can fail; after the commit nothing may). Raises OSError/StorageError
        with every file it opened closed again."""
        opened: list[StoreFile] = []
        try:
            for m in added:
                opened.append(self._open_file(m))
        except BaseException:
            for f in opened:
                f.reader.close()
            raise
        return opened

    def discard_new(self, opened: list[StoreFile]) -> None:
        """Close files from ``open_new`` whose change the manifest did not record."""
        for f in opened:
            f.reader.close()

    def install(
        self,
        new_files: list[StoreFile],
        removed: list[int],
        flushed: list[MemStore] | None = None,
    ) -> None:
        """Swap the in-memory view after the manifest recorded the change (cannot fail:
        ``new_files`` come from ``open_new``)."""
        with self._lock:
            gone = [f for f in self._files if f.meta.file_number in removed]
            keep = [f for f in self._files if f.meta.file_number not in removed]
            files = keep + new_files
            files.sort(key=lambda f: f.meta.max_seq, reverse=True)
            self._files = files
            if flushed:
                self._snapshots = [m for m in self._snapshots if m not in flushed]
            self._compacting.difference_update(removed)
        for f in gone:
            f.mark_obsolete()

    # ---- compaction ----------------------------------------------------------
    def pick_compaction(
        self,
        *,
        major: bool,
        min_files: int,
        max_files: int,
        ratio: float,
        must_include: list[FileMeta] | None = None,
    ) -> list[FileMeta]:
        """Choose files to compact (HBase's ratio-based exploring policy, simplified).

        Minor: walk files oldest first; take the first window of at least
        ``min_files`` files where every file is at most ``ratio`` times the sum
        of the newer files in the window. Major: every file.
        Files already being compacted are never chosen.
        """
        with self._lock:
            if self._compacting:
                return []
            metas = [f.meta for f in self._files]  # newest first
            if must_include:
                # files shared with a sibling region after a split: rewrite them to the
                # region's range (a minor compaction of any subset of files is invisible)
                wanted = {m.file_number for m in must_include}
                chosen = [m for m in metas if m.file_number in wanted]
                self._compacting.update(m.file_number for m in chosen)
                return chosen
            if major:
                chosen = metas
            else:
                oldest_first = metas[::-1]
                chosen = []
                for i in range(len(oldest_first)):
                    window = oldest_first[i : i + max_files]
                    if len(window) < min_files:
                        break
                    ok = all(
                        window[j].size_bytes <= ratio * sum(w.size_bytes for w in window[j + 1 :])
                        for j in range(len(window) - 1)
                    )
                    if ok:
                        chosen = window[::-1]
                        break
                if not chosen and len(metas) >= max_files * 2:
                    # too many files: compact the newest, smallest ones regardless
                    chosen = metas[:max_files]
            if len(chosen) < (1 if major else min_files):
                return []
            self._compacting.update(m.file_number for m in chosen)
            return list(chosen)

    def cancel_compaction(self, chosen: list[FileMeta]) -> None:
        with self._lock:
            self._compacting.difference_update(m.file_number for m in chosen)

    def compaction_input(
        self, chosen: list[FileMeta], start: bytes = b"", stop: bytes | None = None
    ) -> Entries:
        """Merged entries of the chosen files within ``[start, stop)`` (the region's range:
        files shared with a sibling after a split hold keys outside it)."""
        numbers = {m.file_number for m in chosen}
        with self._lock:
            files = [f for f in self._files if f.meta.file_number in numbers]
            for f in files:
                f.ref()
        its = [f.reader.iter_from(start, stop) for f in files]
        return _refcounted(files, merged_entries(its))

    def files_outside(self, start: bytes, stop: bytes | None) -> list[FileMeta]:
        """Files holding keys outside ``[start, stop)`` (shared with a sibling after a split)."""
        with self._lock:
            return [
                f.meta
                for f in self._files
                if f.meta.first_key < start or (stop is not None and f.meta.last_key >= stop)
            ]

    def size_bytes(self) -> int:
        with self._lock:
            return sum(f.meta.size_bytes for f in self._files)

    def file_paths(self) -> list[tuple[FileMeta, str]]:
        with self._lock:
            return [(f.meta, f.path) for f in self._files]

    def mid_key(self) -> bytes | None:
        """An internal key near the middle of the store's data (from the largest file's index)."""
        with self._lock:
            if not self._files:
                return None
            biggest = max(self._files, key=lambda f: f.meta.size_bytes)
            biggest.ref()
        try:
            keys = [k for _lvl, k, _o, _s in biggest.reader.index_entries(level=1)]
            if len(keys) >= 2:
                return keys[(len(keys) - 1) // 2]
            # one block: the middle entry of the file
            entries = [k for k, _v in biggest.reader.iter_from(b"", None)]
            return entries[len(entries) // 2] if entries else None
        finally:
            biggest.unref()

    def file_count(self) -> int:
        with self._lock:
            return len(self._files)


def merged_entries(its: list[Entries]) -> Entries:
    """Entries of several key-ordered sources in one key order (one source as it is)."""
    if len(its) == 1:
        return its[0]
    return heapq.merge(*its)


def _file_id(region_dir: str, family: bytes, number: int) -> int:
    # stable per process; the block cache keys blocks by (file_id, offset)
    return hash((region_dir, family, number)) & ((1 << 62) - 1)


def write_store_file(
    fs: FileSystem,
    path: str,
    cf: ColumnFamilyDescriptor,
    entries: Entries,
    file_number: int,
    created_ms: int,
) -> FileMeta | None:
    """Write ``entries`` (key order) as the store file at ``path`` with the family's block
    size, compression and bloom type; None (and no file) if there are none. Used by
    flushes and compactions, in the serving process or a compaction worker process."""
    fs.makedirs(path.rsplit("/", 1)[0])
    writer = SSTableWriter(
        fs,
        path,
        family=cf.name,
        block_size_bytes=cf.block_size,
        compression=cf.compression,
        bloom_filter_type=cf.bloom_filter_type,
        created_ms=created_ms,
    )
    n = 0
    try:
        # one core call per 512 entries (the core encodes and writes with the GIL released)
        keys: list[bytes] = []
        values: list[bytes] = []
        for key, value in entries:
            keys.append(key)
            values.append(value)
            if len(keys) == 512:
                writer.add_batch(keys, values)
                n += 512
                keys, values = [], []
                yield_gil()  # background work: let request threads in (_internal/gil.py)
        if keys:
            writer.add_batch(keys, values)
            n += len(keys)
        if n == 0:
            writer.abandon()
            return None
        props = writer.finish()
        # the new name must survive a power cut too (the manifest will name it)
        fs.sync_dir(path.rsplit("/", 1)[0])
    except BaseException:
        writer.abandon()
        raise
    return FileMeta(
        family=cf.name,
        file_number=file_number,
        size_bytes=props.file_size,
        entries=props.entries,
        first_key=props.first_key,
        last_key=props.last_key,
        min_seq=props.min_seq,
        max_seq=props.max_seq,
        min_ts=props.min_ts,
        max_ts=props.max_ts,
    )
