"""The write-ahead log manager: one log per process, group commit, rolling, obsolete-file GC.

Role: every region of a process appends its edits here before applying them to
its memstore (``append`` then ``sync``); regions report flushes with
``mark_flushed`` so old files can be deleted; at startup ``recover`` yields the
edits of the files a previous process left behind.
Stays whole: the group commit (write leader, sync leader, roll and repair of a
broken file, failed ranges) is one state machine over ``self._lock`` whose
transitions must be read together; the file format, reader, writer and edit
encoding already live in wal_format.py, wal_reader.py, wal_writer.py and wal_edit.py,
and the current file's I/O in the compiled core's ``WalWriter`` (rust/src/wal_writer.rs:
through the core's Fs, without the GIL for the native file system).
Format: docs/formats/wal.md (authoritative). Files are ``<data>/wal/<n:012d>.log``,
each ``header record*`` (wal_format.py); this module never writes a partial
record except when the process dies mid-``os.write``.
Invariants:
    synced_pos <= written_pos <= appended_pos (logical byte positions, not offsets)
    bytes up to written_pos are in the OS; up to synced_pos on stable storage
    only the write leader (``_write_busy``) writes or rolls the current file;
    only the sync leader (``_sync_busy``) fsyncs it; a roll holds both
    a file other than the current one is deleted only when, for every region
    with an edit in it, that region's flushed seq >= its max seq in the file
    (or the region was forgotten); files found at startup are kept until
    ``recover`` has read them
    after a restart the log never appends to an old file (a torn tail stays a tail)
Concurrency: thread-safe. Fields are guarded by ``self._lock``; threads waiting for
a write or sync wait on ``self._cond``; the ASYNC_WAL flusher waits on
``self._flusher_wake``. File I/O happens with the lock released.
Hot path: ``append`` + ``sync`` (every logged write); measured in docs/formats/wal.md#performance.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Protocol

from hedgerow._core import WalWriter, frame_record
from hedgerow._internal import failpoints
from hedgerow._internal.clock import Clock, SystemClock
from hedgerow.errors import (
    ClosedError,
    StorageError,
    StorageFull,
    WriteOutcomeUnknown,
    storage_error,
)
from hedgerow.model.durability import Durability
from hedgerow.storage import filenames
from hedgerow.storage.fs import FileSystem
from hedgerow.storage.wal_edit import WalEdit, encode_edit
from hedgerow.storage.wal_format import WAL_MAGIC, WAL_VERSION, RecordType
from hedgerow.storage.wal_reader import (
    RecoveryReport,
    read_wal_dir,
    read_wal_file,
    wal_file_numbers,
)

# Durability (model/durability.py), read_wal_dir and RecoveryReport are re-exported so that
# callers of the log need one import.
__all__ = [
    "DEFAULTS",
    "Durability",
    "RecoveryReport",
    "ThreadFactory",
    "WriteAheadLog",
    "read_wal_dir",
]

_log = logging.getLogger("hedgerow.wal")
_hit = failpoints.hit
# plain ints: comparing with them is ~6x cheaper than looking up an enum member
_SYNC = int(Durability.SYNC_WAL)
_FSYNC = int(Durability.FSYNC_WAL)

DEFAULTS: dict[str, int | float] = {
    # start a new file once the current one has reached this size (HBase: 64 MiB-ish
    # hbase.regionserver.logroll.multiplier * block size)
    "roll_size_bytes": 64 * 1024 * 1024,
    # ASYNC_WAL: the background flusher writes pending records at least this often
    "async_flush_interval_s": 1.0,
    # ASYNC_WAL: ...and as soon as this many bytes are pending
    "async_buffer_bytes": 1024 * 1024,
    # fsync at least once per this many written bytes even at SYNC_WAL, which bounds the
    # copy of unsynced records kept in memory for a repair (see _switch_file)
    "max_unsynced_bytes": 8 * 1024 * 1024,
    # a write whose record was written but whose fsync failed waits this long for the log
    # to be repaired (copied into a new file) before it gets WriteOutcomeUnknown
    "repair_timeout_s": 60.0,
}
_REPAIR_BACKOFF_MIN_S = 0.05
_REPAIR_BACKOFF_MAX_S = 2.0


class _Thread(Protocol):
    def start(self) -> None: ...

    def join(self, timeout: float | None = None) -> None: ...


#: ``factory(target, name)`` returns an unstarted thread-like object.
ThreadFactory = Callable[[Callable[[], None], str], _Thread]


def _default_thread_factory(target: Callable[[], None], name: str) -> _Thread:
    return threading.Thread(target=target, name=name, daemon=True)


class WriteAheadLog:
    """The process-wide write-ahead log.

    Writing: ``append(edit) -> pos`` (cheap, in memory), then ``sync(pos, durability)``
    (group commit: one ``os.write`` for every pending record, one fdatasync for
    everything written). Between the two the caller may do other work.
    Files: ``roll()``, ``mark_flushed(region, seq)``, ``forget_region(region)``,
    ``files()``. Lifecycle: ``recover()`` (once, before or while appending),
    ``start()`` (background flusher for ASYNC_WAL), ``close()``.

    >>> import tempfile
    >>> from hedgerow.storage.fs import LocalFS
    >>> d = tempfile.mkdtemp()
    >>> wal = WriteAheadLog(LocalFS(), d + "/wal")
    >>> pos = wal.append(WalEdit("r1", 1, [(b"row", [(b"cf", b"q", 5, 4, b"v")])]))
    >>> wal.sync(pos, Durability.SYNC_WAL)
    >>> wal.close()
    """

    def __init__(
        self,
        fs: FileSystem,
        wal_dir: str,
        *,
        roll_size_bytes: int = int(DEFAULTS["roll_size_bytes"]),
        async_flush_interval_s: float = float(DEFAULTS["async_flush_interval_s"]),
        async_buffer_bytes: int = int(DEFAULTS["async_buffer_bytes"]),
        max_unsynced_bytes: int = int(DEFAULTS["max_unsynced_bytes"]),
        repair_timeout_s: float = float(DEFAULTS["repair_timeout_s"]),
        thread_factory: ThreadFactory = _default_thread_factory,
        clock: Clock | None = None,
        first_file_number: int = 1,
    ) -> None:
        """Open the log in ``wal_dir``: files already there are kept for ``recover`` (or
        ``delete_files_before``); a new file, numbered above every existing one and at
        least ``first_file_number``, is created for appending (1 file create + 1 fsync +
        1 directory fsync). If that fails (a full disk), the log opens without a file and
        makes one at the first write (so a full disk can still be opened and read)."""
        if (
            roll_size_bytes <= 0
            or async_buffer_bytes <= 0
            or async_flush_interval_s <= 0
            or max_unsynced_bytes <= 0
            or repair_timeout_s <= 0
        ):
            raise ValueError("WAL sizes and intervals must be positive")
        # constant after __init__
        self._fs = fs
        self._dir = wal_dir
        self._roll_size_bytes = roll_size_bytes
        self._async_flush_interval_s = async_flush_interval_s
        self._async_buffer_bytes = async_buffer_bytes
        self._max_unsynced_bytes = max_unsynced_bytes
        self._repair_timeout_s = repair_timeout_s
        self._thread_factory = thread_factory
        self._clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._flusher_wake = threading.Condition(self._lock)

        fs.makedirs(wal_dir)
        existing = wal_file_numbers(fs, wal_dir)
        number = max(first_file_number, existing[-1] + 1 if existing else 1)
        # constant after __init__: files numbered below this were left by an earlier process
        self._first_number = number

        # guarded by self._lock
        self._pending = bytearray()
        self._pending_regions: dict[str, int] = {}
        self._appended_pos = 0
        self._written_pos = 0
        self._synced_pos = 0
        self._write_busy = False
        self._sync_busy = False
        self._closing = False
        self._closed = False
        # unrecoverable: a failed batch could not be cut off the file (restart needed)
        self._failed: BaseException | None = None
        # the current file cannot be trusted or there is none: the next writer makes a
        # new one holding a copy of the unsynced records (``_switch_file``)
        self._broken: BaseException | None = None
        self._retry_at = 0.0  # no repair attempt before this (monotonic s)
        self._repair_backoff_s = _REPAIR_BACKOFF_MIN_S
        # batches whose write failed: (start pos, end pos, error), oldest first; positions
        # in them were never written anywhere (or were cut off again)
        self._failed_ranges: list[tuple[int, int, StorageError]] = []
        self._failed_end = -1  # end of the last failed range (fast-path guard)
        # records written to the current file since its last successful fsync, and their
        # regions: copied into the next file if that fsync never succeeds
        self._unsynced = bytearray()
        self._unsynced_regions: dict[str, int] = {}
        # the current file's number; while there is none (``_writer`` None) the last
        # number used, and the next file is numbered one above it
        self._number = number
        self._writer: WalWriter | None = None
        self._file_bytes = 0  # bytes in the current file
        try:
            self._writer = self._create_file(number, b"")
            self._file_bytes = self._writer.size()
        except (OSError, StorageError) as e:  # a Python FS's OSError, or the core's
            self._number = number - 1
            self._set_broken(storage_error(e, f"creating a write-ahead log file in {wal_dir}"))
        self._waiters = 0  # threads in self._cond.wait()
        # per file number: region -> max seq in that file; None = not read yet (recover)
        self._file_regions: dict[int, dict[str, int] | None] = {n: None for n in existing}
        self._current_regions: dict[str, int] = {}  # the current file's entry
        if self._writer is not None:
            self._file_regions[number] = self._current_regions
        self._flushed: dict[str, int] = {}
        self._flusher: _Thread | None = None
        self.recovery_report = RecoveryReport()
        # statistics (guarded by self._lock)
        self.appends = 0
        self.writes = 0
        self.syncs = 0
        self.failed_writes = 0
        self.repairs = 0

    # ------------------------------------------------------------------ writing

    def append(self, edit: WalEdit | bytes, *, region: str | None = None, seq: int = -1) -> int:
        """Queue one edit; return its position token for ``sync``.

        ``edit`` is a WalEdit or its ``encode_edit`` bytes (then ``region`` and ``seq``
        are required). Cost: the encoding plus a bytearray append under the lock;
        no I/O. Raises ClosedError after ``close``, StorageError after an unrecoverable
        failure.
        """
        if isinstance(edit, WalEdit):
            payload = encode_edit(edit)
            region = edit.region
            seq = edit.seq
        else:
            if region is None or seq < 0:
                raise ValueError("append(bytes) needs region= and seq=")
            payload = edit
        record = frame_record(RecordType.WAL_EDIT, payload)
        with self._lock:
            if self._closing:
                raise ClosedError("the write-ahead log is closed")
            if self._failed is not None:
                raise self._failure()
            pending = self._pending
            pending += record
            pos = self._appended_pos + len(record)
            self._appended_pos = pos
            regions = self._pending_regions
            if seq > regions.get(region, -1):
                regions[region] = seq
            self.appends += 1
            if len(pending) >= self._async_buffer_bytes and self._flusher is not None:
                self._flusher_wake.notify()
        return pos

    def sync(self, pos: int, durability: Durability = Durability.SYNC_WAL) -> None:
        """Block until the record ending at ``pos`` is written (SYNC_WAL) or fsynced (FSYNC_WAL).

        ASYNC_WAL and SKIP_WAL return at once. The first waiting thread writes every
        pending record in one ``os.write`` (or fsyncs everything written); threads
        whose position is already covered return without a system call.

        Raises StorageError (StorageFull for a full disk) when the record's batch could
        not be written: the record is then in no file recovery reads, so the caller may
        treat the write as not done. A record that was written but whose fsync failed
        is copied into a new file (``_switch_file``), retried with backoff for up to
        ``repair_timeout_s``; past that the caller gets WriteOutcomeUnknown.
        """
        if durability < _SYNC:
            return
        need_fsync = durability >= _FSYNC
        # fast path: already covered and not in a failed batch (int reads are atomic
        # under the GIL)
        if pos > self._failed_end and pos <= (
            self._synced_pos if need_fsync else self._written_pos
        ):
            return
        with self._lock:
            if pos > self._appended_pos:
                raise ValueError(f"position {pos} was never returned by append")
            if not need_fsync and self._unsynced_over_limit(pos):
                need_fsync = True  # bound the copy kept for a repair: fsync now and then
            give_up_at: float | None = None  # while waiting for a repair
            while True:
                if pos <= self._failed_end:
                    err = self._failed_at(pos)
                    if err is not None:
                        raise err  # its batch was not written (or was cut off again)
                written = self._written_pos >= pos
                if self._synced_pos >= pos or (written and not need_fsync):
                    return
                if self._failed is not None:
                    raise self._unknown(self._failed) if written else self._failure()
                if written:
                    if self._broken is not None:
                        if give_up_at is None:
                            give_up_at = self._clock.monotonic_s() + self._repair_timeout_s
                        if not (self._write_busy or self._sync_busy):
                            self._repair_for_waiter(give_up_at)  # slow path: a new file
                            continue
                    elif not self._sync_busy:
                        self._lead_sync()  # slow path: become the sync leader
                        continue
                elif not self._write_busy:
                    self._lead_write()  # slow path: become the write leader
                    continue
                self._wait()

    def flush(self) -> None:
        """Write every pending record to the OS now (what the ASYNC_WAL flusher does)."""
        with self._lock:
            pos = self._appended_pos
        self.sync(pos, Durability.SYNC_WAL)

    def _unsynced_over_limit(self, pos: int) -> bool:
        # REQUIRES: self._lock held
        return len(self._unsynced) + (pos - self._written_pos) > self._max_unsynced_bytes

    def _failed_at(self, pos: int) -> StorageError | None:
        # REQUIRES: self._lock held
        for start, end, err in reversed(self._failed_ranges):
            if start < pos <= end:
                return err
            if end < pos:
                return None
        return None

    def _lead_write(self) -> None:
        # REQUIRES: self._lock held, not self._write_busy; releases it during the I/O
        self._write_busy = True
        batch = self._pending
        regions = self._pending_regions
        end = self._appended_pos
        start = end - len(batch)
        self._pending = bytearray()
        self._pending_regions = {}
        lock = self._lock
        obsolete: list[str] = []
        error: StorageError | None = None
        if self._broken is not None and self._clock.monotonic_s() < self._retry_at:
            error = self._broken_error()  # backing off: fail fast, nothing is written
        else:
            lock.release()
            try:
                if self._broken is not None or self._file_bytes >= self._roll_size_bytes:
                    obsolete = self._switch_file()  # slow path: roll (or repair) first
                error = self._write_batch(batch)
            except StorageError as e:  # the switch failed: nothing of this batch written
                error = e
            except BaseException as e:  # not an I/O error (a bug, an interrupt): stop
                lock.acquire()
                self._write_busy = False
                self._fail(e)
                self._wake()
                raise
            lock.acquire()
        self._write_busy = False
        if error is not None:
            self.failed_writes += 1
            self._failed_ranges.append((start, end, error))
            self._failed_end = end
            if end > self._written_pos:
                self._written_pos = end  # later batches go on after the hole
            self._wake()
            raise error
        self.writes += 1
        self._written_pos = end
        self._file_bytes += len(batch)
        self._unsynced += batch
        current = self._current_regions
        unsynced = self._unsynced_regions
        for region, seq in regions.items():
            if seq > current.get(region, -1):
                current[region] = seq
            if seq > unsynced.get(region, -1):
                unsynced[region] = seq
        self._wake()
        if obsolete:
            lock.release()
            try:
                self._delete(obsolete)
            finally:
                lock.acquire()

    def _write_batch(self, batch: bytearray) -> StorageError | None:
        """Write one batch to the current file (write leader, lock NOT held); on failure
        cut what was written of it off again and return the error for its writers."""
        writer = self._writer
        assert writer is not None
        offset = self._file_bytes
        try:
            _hit("storage.wal.before_write")
            writer.write(batch)
            _hit("storage.wal.after_write")
        except Exception as e:
            error = storage_error(e, f"writing the write-ahead log {writer.path}")
            try:
                writer.truncate(offset)  # no record of the batch may be replayed
            except Exception as e2:
                with self._lock:
                    self._fail(e2)
                return self._unknown(e2)
            _log.warning(
                "write-ahead log %s: a write failed (%r); its %d bytes were cut off, "
                "the writes in it reported failed",
                writer.path,
                e,
                len(batch),
            )
            return error
        return None

    def _lead_sync(self) -> None:
        # REQUIRES: self._lock held, not self._sync_busy; releases it during the fsync
        self._sync_busy = True
        target = self._written_pos
        copied = len(self._unsynced)
        writer = self._writer  # a roll waits for _sync_busy, so this stays open
        assert writer is not None
        self._lock.release()
        error: BaseException | None = None
        try:
            _hit("storage.wal.before_sync")
            writer.sync()
            _hit("storage.wal.after_sync")
        except Exception as e:
            error = e
        finally:
            self._lock.acquire()
        self._sync_busy = False
        self._wake()
        if error is not None:
            # the data may be gone from the OS's cache (Linux drops pages whose writeback
            # failed): a waiter copies the unsynced records into a new file and fsyncs it
            self._set_broken(storage_error(error, f"fsync of the write-ahead log {writer.path}"))
            return
        self.syncs += 1
        if target > self._synced_pos:
            self._synced_pos = target
        if writer is self._writer:
            del self._unsynced[:copied]
            if not self._unsynced:
                self._unsynced_regions = {}

    def _repair_for_waiter(self, give_up_at: float) -> None:
        # REQUIRES: self._lock held, log broken, neither leader busy. A waiter whose record
        # is written but not fsynced makes a new file holding the unsynced records; on
        # failure it backs off, and gives up with WriteOutcomeUnknown at ``give_up_at``.
        now = self._clock.monotonic_s()
        if now < self._retry_at:
            if self._closing or now >= give_up_at:
                assert self._broken is not None
                raise self._unknown(self._broken)
            self._waiters += 1
            try:
                self._cond.wait(min(self._retry_at, give_up_at) - now)
            finally:
                self._waiters -= 1
            return
        self._write_busy = True
        self._lock.release()
        obsolete: list[str] = []
        try:
            obsolete = self._switch_file()
        except StorageError:
            pass  # _switch_file recorded it and set the next retry time
        finally:
            self._lock.acquire()
            self._write_busy = False
            self._wake()
        if obsolete:
            self._lock.release()
            try:
                self._delete(obsolete)
            finally:
                self._lock.acquire()

    def _wait(self) -> None:
        # REQUIRES: self._lock held
        self._waiters += 1
        try:
            self._cond.wait()
        finally:
            self._waiters -= 1

    def _wake(self) -> None:
        # REQUIRES: self._lock held. Condition.notify_all is Python code: skip it when
        # nobody waits (the single-writer case).
        if self._waiters:
            self._cond.notify_all()

    def _set_broken(self, error: StorageError) -> None:
        # REQUIRES: self._lock held (or __init__)
        now = self._clock.monotonic_s()
        if self._broken is None:
            self._repair_backoff_s = _REPAIR_BACKOFF_MIN_S
            _log.error("write-ahead log %s: %s; writing to a new file", self._dir, error)
        else:
            self._repair_backoff_s = min(self._repair_backoff_s * 2, _REPAIR_BACKOFF_MAX_S)
        self._broken = error
        self._retry_at = now + self._repair_backoff_s

    def _broken_error(self) -> StorageError:
        # REQUIRES: self._lock held, self._broken set
        broken = self._broken
        assert broken is not None
        cls = StorageFull if isinstance(broken, StorageFull) else StorageError
        err = cls(
            f"the write-ahead log in {self._dir} cannot write ({broken}); nothing was "
            "logged; retry (writes resume by themselves once the disk works again)"
        )
        err.__cause__ = broken
        return err

    def _fail(self, error: BaseException) -> None:
        # REQUIRES: self._lock held. A failed batch could not be cut off the file again:
        # nothing more may be appended to this log (the region server must restart).
        if self._failed is None:
            self._failed = error
            _log.error(
                "write-ahead log %s failed for good (%r): no more writes until a restart",
                self._dir,
                error,
            )

    def _failure(self) -> StorageError:
        err = StorageError(f"the write-ahead log in {self._dir} failed: {self._failed!r}")
        err.__cause__ = self._failed
        return err

    def _unknown(self, cause: BaseException) -> WriteOutcomeUnknown:
        err = WriteOutcomeUnknown(
            f"the write-ahead log in {self._dir} failed ({cause!r}) and could not make sure "
            "this write's record is gone: it is not visible now, but may be replayed at the "
            "next open; read the row to learn the outcome"
        )
        err.__cause__ = cause
        return err

    # ------------------------------------------------------------------ files

    def _create_file(self, number: int, records: bytes) -> WalWriter:
        """A new, durable log file holding ``records`` (a copy of unsynced ones, or none);
        on failure nothing is left behind (best effort; a stray copy of records that are
        also in the old file would be harmless) and the error propagates (the Python
        file system's own, or the core's StorageError)."""
        path = filenames.wal_file_name(self._dir, number)
        return WalWriter.create(self._fs, path, self._dir, WAL_MAGIC, WAL_VERSION, records)

    def _switch_file(self) -> list[str]:
        # REQUIRES: caller is the write leader, self._lock NOT held.
        # Takes sync leadership too. A roll: fsync and close the current file, open the
        # next. A repair (the log is broken, or that fsync fails): the next file starts
        # with a copy of every record not yet fsynced, so nothing acknowledged depends on
        # the old file's unsynced tail. Raises StorageError (the log stays broken).
        with self._lock:
            while self._sync_busy:
                self._wait()
            self._sync_busy = True
            number = self._number
            written = self._written_pos
            broken = self._broken
            copy = bytes(self._unsynced)
            copy_regions = dict(self._unsynced_regions)
        old = self._writer
        try:
            if old is not None and broken is None:
                try:
                    old.sync()
                except Exception as e:
                    broken = storage_error(e, f"fsync of the write-ahead log {old.path}")
            if old is not None:
                try:
                    old.close()
                except Exception:
                    pass  # its records are fsynced, or copied below
            if broken is None:
                copy, copy_regions = b"", {}
            new_number = number + 1
            _hit("storage.wal.before_new_file")
            writer = self._create_file(new_number, copy)
        except Exception as e:
            with self._lock:
                self._writer = None  # closed (or never opened): the next writer retries
                self._set_broken(
                    storage_error(e, f"creating a write-ahead log file in {self._dir}")
                )
                self._sync_busy = False
                self._wake()
                error = self._broken_error()
            raise error from e
        with self._lock:
            self._writer = writer
            self._file_bytes = writer.size()
            self._number = new_number
            self._current_regions = copy_regions
            self._file_regions[new_number] = self._current_regions
            if written > self._synced_pos:
                self._synced_pos = written
            self._unsynced = bytearray()
            self._unsynced_regions = {}
            if broken is not None:
                self.repairs += 1
                _log.warning(
                    "write-ahead log repaired: %s holds a copy of the %d unsynced bytes",
                    writer.path,
                    len(copy),
                )
            self._broken = None
            self._sync_busy = False
            self._wake()
            obsolete = self._collect_obsolete()
        _log.info("rolled write-ahead log to %s", writer.path)
        failpoints.hit("storage.wal.after_roll")
        return obsolete

    def roll(self) -> None:
        """Start a new file now (the old one is fsynced and closed; 2 fsyncs + 1 dir fsync)."""
        with self._lock:
            while self._write_busy:
                self._wait()
            if self._failed is not None:
                raise self._failure()
            if self._closing:
                raise ClosedError("the write-ahead log is closed")
            self._write_busy = True
        obsolete: list[str] = []
        try:
            obsolete = self._switch_file()
        finally:
            with self._lock:
                self._write_busy = False
                self._wake()
        self._delete(obsolete)

    def mark_flushed(self, region: str, flushed_seq: int) -> None:
        """Record that ``region``'s edits up to ``flushed_seq`` are in store files;
        delete the files that made obsolete (never the current one)."""
        with self._lock:
            if flushed_seq > self._flushed.get(region, -1):
                self._flushed[region] = flushed_seq
            obsolete = self._collect_obsolete()
        self._delete(obsolete)

    def forget_region(self, region: str) -> None:
        """``region`` was closed for good (or deleted, or moved away after a flush): its
        edits in existing files are no longer needed; delete files that made obsolete."""
        with self._lock:
            for regions in self._file_regions.values():
                if regions is not None:
                    regions.pop(region, None)
            self._flushed.pop(region, None)
            obsolete = self._collect_obsolete()
        self._delete(obsolete)

    def delete_files_before(self, number: int) -> None:
        """Delete every file numbered below ``number`` (never the current one), whatever
        regions it holds: for callers that replayed and flushed those files themselves
        (``read_wal_dir`` + flush) instead of using ``recover``."""
        with self._lock:
            doomed = [n for n in self._file_regions if n < number and n != self._number]
            for n in doomed:
                del self._file_regions[n]
        self._delete([filenames.wal_file_name(self._dir, n) for n in sorted(doomed)])

    def _collect_obsolete(self) -> list[str]:
        # REQUIRES: self._lock held. Removes the obsolete files from tracking.
        flushed = self._flushed
        obsolete = [
            n
            for n, regions in self._file_regions.items()
            if n != self._number
            and regions is not None
            and all(seq <= flushed.get(r, -1) for r, seq in regions.items())
        ]
        for n in obsolete:
            del self._file_regions[n]
        return [filenames.wal_file_name(self._dir, n) for n in obsolete]

    def _delete(self, paths: list[str]) -> None:
        # best effort: a file left behind is read and deleted at the next open (its edits
        # are all flushed); never an error for the write or flush that triggered the GC
        for path in paths:
            _log.info("deleting obsolete write-ahead log file %s", path)
            try:
                self._fs.remove(path)
            except OSError as e:
                _log.warning("could not delete write-ahead log file %s: %r", path, e)

    def files(self) -> list[str]:
        """Paths of the WAL files still tracked (live or not yet recovered), oldest first."""
        with self._lock:
            return [filenames.wal_file_name(self._dir, n) for n in sorted(self._file_regions)]

    @property
    def current_file(self) -> str:
        """Path of the file being appended to (or the next one, while there is none)."""
        with self._lock:
            number = self._number + (1 if self._writer is None else 0)
            return filenames.wal_file_name(self._dir, number)

    # ------------------------------------------------------------------ recovery

    def recover(self, *, skip_corruption: bool = False) -> Iterator[tuple[str, int, WalEdit]]:
        """Yield ``(path, offset, edit)`` from the files an earlier process left, oldest first.

        Rules as ``read_wal_dir`` (torn tails dropped, corruption raises or is
        skipped); ``self.recovery_report`` collects what was dropped. Each file read
        to its end becomes eligible for GC (regions' max seqs now known). Appends go
        to the new file meanwhile.
        """
        report = self.recovery_report
        for number in wal_file_numbers(self._fs, self._dir):
            if number >= self._first_number:
                break
            with self._lock:
                if number not in self._file_regions:
                    continue  # already recovered and deleted
            path = filenames.wal_file_name(self._dir, number)
            seen: dict[str, int] = {}
            for offset, edit in read_wal_file(
                self._fs, path, skip_corruption=skip_corruption, report=report
            ):
                if edit.seq > seen.get(edit.region, -1):
                    seen[edit.region] = edit.seq
                yield path, offset, edit
            with self._lock:
                if number in self._file_regions:
                    self._file_regions[number] = seen
        with self._lock:
            obsolete = self._collect_obsolete()
        self._delete(obsolete)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the ASYNC_WAL background flusher (a thread from ``thread_factory``)."""
        with self._lock:
            if self._flusher is not None or self._closing:
                return
            self._flusher = self._thread_factory(self._flusher_loop, "hedgerow-wal-flusher")
        self._flusher.start()

    def _flusher_loop(self) -> None:
        while True:
            with self._lock:
                if self._closing or self._failed is not None:
                    return
                if len(self._pending) < self._async_buffer_bytes:
                    self._flusher_wake.wait(self._async_flush_interval_s)
                if self._closing:
                    return
                pos = self._appended_pos
            try:
                self.sync(pos, Durability.SYNC_WAL)
            except StorageError as e:
                # the ASYNC_WAL writes in that batch were acknowledged unlogged (their
                # durability level allows losing them in a crash); keep flushing the rest
                _log.warning("write-ahead log flusher: a batch was not written: %s", e)
            except Exception:
                _log.exception("write-ahead log flusher stopped")
                return

    def close(self) -> None:
        """Write and fsync every pending record, stop the flusher, close the file.

        Idempotent. Raises StorageError if the final write fails.
        """
        with self._lock:
            if self._closing:
                return
            self._closing = True
            pos = self._appended_pos
            self._flusher_wake.notify_all()
            flusher = self._flusher
        if flusher is not None:
            flusher.join()
        try:
            if self._failed is None:
                try:
                    self.sync(pos, Durability.FSYNC_WAL)
                except StorageError:
                    with self._lock:
                        if self._failed_at(pos) is None:
                            raise
                    # the last batch failed (its writers were told): fsync the rest
                    self._fsync_written()
        finally:
            with self._lock:
                while self._write_busy or self._sync_busy:
                    self._wait()
                self._closed = True
                if self._writer is not None:
                    self._writer.close()

    def _fsync_written(self) -> None:
        """Make everything written durable (close, after a failed last batch)."""
        with self._lock:
            while self._synced_pos < self._written_pos:
                if self._failed is not None:
                    raise self._unknown(self._failed)
                if self._write_busy or self._sync_busy:
                    self._wait()
                elif self._broken is not None:
                    self._repair_for_waiter(self._clock.monotonic_s())
                else:
                    self._lead_sync()

    def __enter__(self) -> WriteAheadLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
