"""Region maintenance: flush, compaction, and what split and merge need.

Role: the ``flush``/``compact`` half of ``Region`` (a mixin over ``RegionCore``),
called by the region server's background threads, by ``close`` and by the
master's split/merge procedures (``key_bounds``, ``mid_row``, ``store_files``,
``create_from_files``, ``has_references``).
Invariants: a flush or compaction changes the store file set only through one
manifest edit; a failure before that edit changes nothing readers see (flush:
the snapshots stay and the WAL keeps their edits; compaction: the inputs stay);
a store file a failed edit wrote is removed, or kept until the next edit that
succeeds when the failed edit may come back at a reopen (``_unrecorded``).
Concurrency: ``_flush_lock`` allows one flush at a time (the memstore freeze
takes ``_update_lock`` briefly); ``_compact_lock`` one compaction;
``_unrecorded`` is guarded by ``_unrecorded_lock``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hedgerow._internal import failpoints
from hedgerow.errors import StorageError, storage_error
from hedgerow.model.keys import row_of, row_prefix
from hedgerow.region.compaction import CompactionJob, compaction_entries
from hedgerow.region.core import RegionCore
from hedgerow.region.info import RegionInfo
from hedgerow.storage import filenames
from hedgerow.storage.fs import FileSystem
from hedgerow.storage.manifest import Manifest
from hedgerow.storage.memstore import MemStore
from hedgerow.storage.store import Store, StoreFile, merged_entries
from hedgerow.storage.version_edit import FileMeta, VersionEdit

__all__ = ["Maintenance"]

log = logging.getLogger("hedgerow.region")


class Maintenance(RegionCore):
    """Maintenance: ``flush``, ``compact``, ``needs_flush``, ``needs_compaction``,
    ``drop_orphan_families`` and split/merge support."""

    # ---- flush -------------------------------------------------------------------------------
    def needs_flush(self, flush_size: int) -> bool:
        return self.memstore_size() >= flush_size

    def flush(self) -> bool:
        """Write every memstore to store files; returns False when there was nothing to flush."""
        return self._flush(allow_closed=False)

    def _flush(self, *, allow_closed: bool) -> bool:
        """The flush (the write-path contract, docs/design/storage.md): every snapshot
        waiting, those of earlier failed flushes included, goes into one new file per
        family; only after the manifest records them are the snapshots dropped and the
        WAL told. A failure changes nothing readers see: the snapshots stay and are
        flushed again (the region server retries with backoff), the WAL keeps their edits.
        Raises StorageError (StorageFull for a full disk)."""
        with self._flush_lock:
            if self.closed and not allow_closed:
                return False
            with self._update_lock:
                snaps: dict[bytes, list[MemStore]] = {}
                for fam, store in self.stores.items():
                    pending = store.freeze()
                    if pending:
                        snaps[fam] = pending
                flush_seq = self.mvcc.last_assigned
            if not snaps:
                return False
            self.mvcc.wait_for(flush_seq)
            now = self._clock.now_ms()
            added: dict[bytes, FileMeta] = {}
            opened: dict[bytes, list[StoreFile]] = {}
            try:
                for fam, mems in snaps.items():
                    number = self._manifest.allocate_file_number()
                    entries = merged_entries([m.iter_range() for m in reversed(mems)])
                    meta = self.stores[fam].write_file(entries, number, now)
                    if meta is not None:
                        added[fam] = meta
                        opened[fam] = self.stores[fam].open_new([meta])
                failpoints.hit("region.flush.before_manifest")
                self._manifest.apply(
                    VersionEdit(
                        added_files=list(added.values()),
                        flushed_seq=flush_seq,
                        next_file_number=self._manifest.peek_next_file_number(),
                    )
                )
            except Exception as e:
                for fam, files in opened.items():
                    self.stores[fam].discard_new(files)
                self._forget_unrecorded(list(added.values()))
                if not isinstance(e, OSError | StorageError):
                    raise  # a bug, not an I/O failure
                err = storage_error(e, f"flushing region {self.info.name}")
                log.error("%s; its memstore is kept and the flush will be retried", err)
                raise err from e
            failpoints.hit("region.flush.after_manifest")
            self._delete_unrecorded()
            for fam, mems in snaps.items():
                self.stores[fam].install(opened.get(fam, []), [], flushed=mems)
            self.flushed_seq = flush_seq
            self._wal.mark_flushed(self.info.name, flush_seq)
            with self._size_cond:
                self._size_cond.notify_all()
            return True

    def _forget_unrecorded(self, metas: list[FileMeta]) -> None:
        """Store files a failed flush or compaction wrote but the manifest does not list.
        Deleted now, or, if the failed manifest edit may still come back at a reopen
        (``Manifest.needs_rewrite``), after the next edit that succeeds."""
        paths = [self.stores[m.family].file_path(m.file_number) for m in metas]
        if self._manifest.needs_rewrite:
            with self._unrecorded_lock:
                self._unrecorded.extend(paths)
            return
        self._remove_unused(paths)

    def _delete_unrecorded(self) -> None:
        # after a successful manifest edit: no failed edit can come back any more
        with self._unrecorded_lock:
            paths, self._unrecorded = self._unrecorded, []
        self._remove_unused(paths)

    def _remove_unused(self, paths: list[str]) -> None:
        for path in paths:
            try:
                self.fs.remove(path)
            except OSError as e:  # no manifest names it: only space is lost
                log.warning("could not remove unused store file %s: %r", path, e)

    # ---- compaction --------------------------------------------------------------------------
    def needs_compaction(self, min_files: int) -> bool:
        return any(s.file_count() >= min_files for s in self.stores.values())

    def compact(
        self,
        *,
        major: bool,
        min_files: int,
        max_files: int,
        ratio: float,
    ) -> int:
        """Compact each store once; returns the number of stores compacted."""
        done = 0
        with self._compact_lock:
            if self.closed:
                return 0
            start, stop = self.key_bounds()
            for store in self.stores.values():
                outside = store.files_outside(start, stop)
                chosen = store.pick_compaction(
                    major=major,
                    min_files=min_files,
                    max_files=max_files,
                    ratio=ratio,
                    must_include=None if major else outside,
                )
                if not chosen:
                    continue
                try:
                    self._compact_store(store, chosen, major)
                except BaseException:
                    store.cancel_compaction(chosen)
                    raise
                done += 1
            if major:
                self.last_major_compaction_ms = self._clock.now_ms()
        return done

    def _compact_store(self, store: Store, chosen: list[FileMeta], major: bool) -> None:
        """Merge ``chosen`` into one new file. A failure changes nothing readers see (the
        inputs stay; the output, if any, is forgotten); raises StorageError."""
        now = self._clock.now_ms()
        number = self._manifest.allocate_file_number()
        pool = self.compaction_pool
        what = f"compacting family {store.family!r} of region {self.info.name}"
        meta: FileMeta | None = None
        try:
            if pool is None:
                entries = store.compaction_input(chosen, *self.key_bounds())
                entries = compaction_entries(entries, store.cf, major=major, now_ms=now)
                meta = store.write_file(entries, number, now)
            else:  # the merge loop runs in a worker process, off this process's GIL
                start, stop = self.key_bounds()
                meta = pool.run(
                    CompactionJob(
                        tuple(store.paths_of(chosen)),
                        start,
                        stop,
                        store.cf,
                        major,
                        now,
                        store.file_path(number),
                        number,
                    )
                )
            opened = store.open_new([meta] if meta else [])
        except OSError as e:
            if meta is not None:
                self._forget_unrecorded([meta])
            raise storage_error(e, what) from e
        try:
            failpoints.hit("region.compaction.before_manifest")
            self._manifest.apply(
                VersionEdit(
                    added_files=[meta] if meta else [],
                    removed_files=[(store.family, m.file_number) for m in chosen],
                    next_file_number=self._manifest.peek_next_file_number(),
                )
            )
        except Exception as e:
            store.discard_new(opened)
            self._forget_unrecorded([meta] if meta else [])
            if not isinstance(e, OSError | StorageError):
                raise
            raise storage_error(e, what) from e
        failpoints.hit("region.compaction.after_manifest")
        self._delete_unrecorded()
        store.install(opened, [m.file_number for m in chosen])

    def drop_orphan_families(self) -> None:
        """Forget store files of families the table no longer has (after ``alter``)."""
        if not self.orphan_families:
            return
        state = self._manifest.state
        removed = [
            (fam, number) for fam in self.orphan_families for number in state.files.get(fam, {})
        ]
        if removed:
            self._manifest.apply(VersionEdit(removed_files=removed))
        for fam in self.orphan_families:
            self.fs.rmtree(filenames.family_dir(self.dir, fam))
            log.info("region %s: dropped files of deleted family %r", self.info.name, fam)
        self.orphan_families = []

    # ---- split and merge support ----------------------------------------------------------
    def key_bounds(self) -> tuple[bytes, bytes | None]:
        """The internal-key range ``[start, stop)`` of this region's rows."""
        start = row_prefix(self.info.start_key) if self.info.start_key else b""
        stop = row_prefix(self.info.end_key) if self.info.end_key else None
        return start, stop

    def has_references(self) -> bool:
        """True while store files shared with a sibling after a split are still in use.

        Such a region is not split again or merged until a compaction rewrote them
        (HBase: a region with reference files cannot split or merge).
        """
        start, stop = self.key_bounds()
        return any(s.files_outside(start, stop) for s in self.stores.values())

    def size_bytes(self) -> int:
        """Bytes of store files (shared files counted whole)."""
        return sum(s.size_bytes() for s in self.stores.values())

    def mid_row(self) -> bytes | None:
        """A row near the middle of the region's data, strictly inside its range, or None."""
        best: Store | None = None
        for s in self.stores.values():
            if best is None or s.size_bytes() > best.size_bytes():
                best = s
        if best is None:
            return None
        key = best.mid_key()
        if key is None:
            return None
        row = row_of(key)
        if row <= self.info.start_key or (self.info.end_key and row >= self.info.end_key):
            return None
        return row

    def store_files(self) -> dict[bytes, list[tuple[FileMeta, str]]]:
        """Per family, the live store files and their paths (for split and merge)."""
        return {fam: s.file_paths() for fam, s in self.stores.items()}

    @staticmethod
    def create_from_files(
        fs: FileSystem,
        region_dir: str,
        info: RegionInfo,
        files: dict[bytes, list[tuple[FileMeta, str]]],
        flushed_seq: int,
        path_for: Callable[[str, bytes, int], str],
    ) -> None:
        """Lay out a new region directory whose stores start with links to existing files.

        Used by split (daughters share the parent's files; reads are bounded by each
        daughter's key range and compactions rewrite the files to it) and merge. The
        manifest edit written last is the region's first record; until the catalog
        names the region, the directory is an orphan that the next open removes.
        """
        fs.makedirs(region_dir)
        manifest = Manifest.open(fs, region_dir, create=True)
        try:
            added: list[FileMeta] = []
            for fam, entries in sorted(files.items()):
                for meta, src in entries:
                    number = manifest.allocate_file_number()
                    dst = path_for(region_dir, fam, number)
                    fs.makedirs(dst.rsplit("/", 1)[0])
                    fs.link(src, dst)
                    added.append(
                        FileMeta(
                            family=fam,
                            file_number=number,
                            size_bytes=meta.size_bytes,
                            entries=meta.entries,
                            first_key=meta.first_key,
                            last_key=meta.last_key,
                            min_seq=meta.min_seq,
                            max_seq=meta.max_seq,
                            min_ts=meta.min_ts,
                            max_ts=meta.max_ts,
                        )
                    )
            manifest.apply(
                VersionEdit(
                    added_files=added,
                    flushed_seq=flushed_seq,
                    next_file_number=manifest.peek_next_file_number(),
                    region_info=info.to_dict(),
                )
            )
        finally:
            manifest.close()
