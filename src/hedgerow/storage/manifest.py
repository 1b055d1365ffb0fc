"""The region manifest: which store files make up each store, the flushed seq, file numbers.

Role: one per region directory. The region opens it (``Manifest.open``) to learn
its live store files and where WAL replay starts; flush and compaction commit
their results with ``apply(VersionEdit)``; store-file writers get their numbers
from ``allocate_file_number``.
Format: docs/formats/manifest.md (authoritative). Summary::

    <region>/CURRENT          "MANIFEST-<n:06d>\\n", replaced atomically (tmp + rename)
    <region>/MANIFEST-<n>     header record*  (framing of wal_format.py, magic "\\x89HRMAN\\r\\n")
    record payload            a msgpack VersionEdit (version_edit.py); the first record of
                              a rewritten manifest is a snapshot of the whole state
Invariants: the state equals the fold of every committed record of the manifest
CURRENT names; an edit is committed once its record is fsynced; every live file
number and every number ever returned by ``allocate_file_number`` in an earlier
process that reached a committed edit is < the persisted next_file_number;
flushed_seq never decreases; a torn last record (cut off by the end of the
file or zero-filled: an append whose fsync never returned, so never
acknowledged) is dropped and the manifest rewritten before anything is
appended; any other bad record, the last one included, is corruption (an
append that did not finish leaves a cut-off or zero-filled tail, not a
complete record with a bad checksum).
Concurrency: thread-safe; ``apply`` and ``allocate_file_number`` are guarded by
``self._lock`` (one record write + fsync per apply, serialised).
Hot path: no (one apply per flush or compaction).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from hedgerow._internal import failpoints, invariants
from hedgerow.errors import ClosedError, CorruptionError, StorageError, storage_error
from hedgerow.storage import filenames
from hedgerow.storage.fs import FileSystem
from hedgerow.storage.version_edit import (
    FileMeta,
    VersionEdit,
    decode_version_edit,
    encode_version_edit,
)
from hedgerow.storage.wal_format import MANIFEST_MAGIC, MANIFEST_VERSION, RecordType
from hedgerow.storage.wal_reader import RecoveryReport, read_log_file
from hedgerow.storage.wal_writer import LogWriter

__all__ = ["DEFAULTS", "Manifest", "ManifestState", "replay_manifest"]

_log = logging.getLogger("hedgerow.manifest")

DEFAULTS: dict[str, int] = {
    # rewrite the manifest as one snapshot record once it grows past this
    "max_manifest_bytes": 1024 * 1024,
}

_TYPES = frozenset({int(RecordType.VERSION_EDIT)})


@dataclass
class ManifestState:
    """The fold of a manifest's edits: live files per family and the region's counters."""

    files: dict[bytes, dict[int, FileMeta]] = field(default_factory=dict)
    flushed_seq: int = 0
    next_file_number: int = 1
    region_info: dict[Any, Any] | None = None

    def problem_with(self, edit: VersionEdit) -> str | None:
        """Why ``edit`` cannot apply to this state, or None if it can."""
        removed = set()
        for fam, num in edit.removed_files:
            if num not in self.files.get(fam, {}) or (fam, num) in removed:
                return f"removes store file {num} of family {fam!r}, which is not live"
            removed.add((fam, num))
        next_number = max(self.next_file_number, edit.next_file_number or 0)
        added = set()
        for meta in edit.added_files:
            key = (meta.family, meta.file_number)
            live = meta.file_number in self.files.get(meta.family, {}) and key not in removed
            if live or key in added:
                return f"adds store file {meta.file_number} of family {meta.family!r} twice"
            if meta.file_number >= next_number:
                return (
                    f"adds store file {meta.file_number}, not below next_file_number {next_number}"
                )
            added.add(key)
        if edit.flushed_seq is not None and edit.flushed_seq < self.flushed_seq:
            return f"moves flushed_seq back from {self.flushed_seq} to {edit.flushed_seq}"
        return None

    def apply(self, edit: VersionEdit) -> None:
        """Fold ``edit`` in (removals first). REQUIRES: ``problem_with(edit) is None``."""
        for fam, num in edit.removed_files:
            files = self.files[fam]
            del files[num]
            if not files:
                del self.files[fam]
        for meta in edit.added_files:
            self.files.setdefault(meta.family, {})[meta.file_number] = meta
        if edit.flushed_seq is not None:
            self.flushed_seq = edit.flushed_seq
        if edit.next_file_number is not None and edit.next_file_number > self.next_file_number:
            self.next_file_number = edit.next_file_number
        if edit.region_info is not None:
            self.region_info = edit.region_info
        if invariants.ENABLED:
            self._check()

    def snapshot_edit(self) -> VersionEdit:
        """One edit that rebuilds this state from an empty one."""
        return VersionEdit(
            added_files=[
                m for fam in sorted(self.files) for _, m in sorted(self.files[fam].items())
            ],
            flushed_seq=self.flushed_seq,
            next_file_number=self.next_file_number,
            region_info=self.region_info,
        )

    def copy(self) -> ManifestState:
        """A copy that later edits do not change (FileMetas are immutable and shared)."""
        return ManifestState(
            files={fam: dict(files) for fam, files in self.files.items()},
            flushed_seq=self.flushed_seq,
            next_file_number=self.next_file_number,
            region_info=self.region_info,
        )

    def _check(self) -> None:
        for fam, files in self.files.items():
            assert files, f"empty family map for {fam!r}: {self!r}"
            for num, meta in files.items():
                assert meta.family == fam and meta.file_number == num, f"misfiled {meta!r}"
                assert num < self.next_file_number, f"{meta!r} >= next {self.next_file_number}"


def _read_current(fs: FileSystem, region_dir: str) -> tuple[int, str]:
    current = filenames.current_file_name(region_dir)
    raw = fs.read_all(current)
    try:
        name = raw.decode("ascii")
    except UnicodeDecodeError:
        name = ""
    parsed = filenames.parse_file_name(name[:-1]) if name.endswith("\n") else None
    if parsed is None or parsed[0] is not filenames.FileKind.MANIFEST:
        raise CorruptionError(f"CURRENT does not name a manifest: {raw[:64]!r}", current, 0)
    path = filenames.manifest_file_name(region_dir, parsed[1])
    if not fs.exists(path):
        raise CorruptionError(f"CURRENT names {path}, which does not exist", current, 0)
    return parsed[1], path


def _replay(fs: FileSystem, path: str, report: RecoveryReport) -> ManifestState:
    state = ManifestState()
    for offset, _, payload in read_log_file(
        fs,
        path,
        magic=MANIFEST_MAGIC,
        version=MANIFEST_VERSION,
        record_types=_TYPES,
        # strict: each record is fsynced before apply returns, so a complete record that
        # fails its crc is damage to an acknowledged edit, never a torn write
        # (docs/formats/manifest.md#corruption-and-recovery-rules)
        lenient_tail=False,
        report=report,
        logger=_log,
    ):
        try:
            edit = decode_version_edit(payload)
        except CorruptionError as e:
            raise type(e)(str(e), path, offset) from None
        problem = state.problem_with(edit)
        if problem is not None:
            raise CorruptionError(f"inconsistent manifest: edit {problem}", path, offset)
        state.apply(edit)
    return state


def replay_manifest(fs: FileSystem, region_dir: str) -> tuple[ManifestState, RecoveryReport]:
    """Read-only replay of a region's manifest (for tools); writes nothing.

    Raises StorageError if there is no CURRENT, CorruptionError as ``Manifest.open``.
    """
    if not fs.exists(filenames.current_file_name(region_dir)):
        raise StorageError(f"no region manifest in {region_dir} (CURRENT is missing)")
    _, path = _read_current(fs, region_dir)
    report = RecoveryReport()
    return _replay(fs, path, report), report


class Manifest:
    """A region's open manifest.

    Reading: ``state`` (a copy), ``flushed_seq``, ``next_file_number``, ``path``.
    Writing: ``apply(edit)`` (1 record write + 1 fsync; sometimes a rewrite),
    ``allocate_file_number()`` (memory only), ``rewrite()``.
    Lifecycle: ``Manifest.open(fs, region_dir, create=...)``, ``close()``.

    >>> import tempfile
    >>> from hedgerow.storage.fs import LocalFS
    >>> m = Manifest.open(LocalFS(), tempfile.mkdtemp(), create=True)
    >>> n = m.allocate_file_number()
    >>> m.apply(VersionEdit(added_files=[FileMeta(b"cf", n, 10, 1, b"a", b"a", 1, 1, 5, 5)],
    ...                     flushed_seq=1))
    >>> sorted(m.state.files[b"cf"]), m.flushed_seq
    ([1], 1)
    >>> m.close()
    """

    def __init__(
        self,
        fs: FileSystem,
        region_dir: str,
        number: int,
        writer: LogWriter,
        state: ManifestState,
        max_manifest_bytes: int,
    ) -> None:
        # constant after __init__
        self._fs = fs
        self._dir = region_dir
        self._max_bytes = max_manifest_bytes
        self._lock = threading.Lock()
        # guarded by self._lock
        self._number = number
        self._writer = writer
        self._state = state
        self._next_alloc = state.next_file_number
        # an append failed: the record may or may not be in the file, so nothing more is
        # appended to it; the next apply first writes the state to a fresh file
        self._needs_rewrite = False
        self._closed = False
        #: what replay dropped (a torn last record) when this manifest was opened
        self.recovery_report = RecoveryReport()

    @classmethod
    def open(
        cls,
        fs: FileSystem,
        region_dir: str,
        *,
        create: bool,
        max_manifest_bytes: int = DEFAULTS["max_manifest_bytes"],
    ) -> Manifest:
        """Replay ``region_dir``'s manifest (CURRENT -> MANIFEST-n) and open it for edits.

        ``create=True`` creates an empty manifest when there is none (and opens an
        existing one otherwise). A torn last record is dropped and the state written
        to a fresh MANIFEST-(n+1); stray manifests and CURRENT.tmp are deleted.
        Raises StorageError (no manifest and not ``create``), CorruptionError naming
        file and offset, FormatVersionError.
        """
        current = filenames.current_file_name(region_dir)
        if not fs.exists(current):
            if not create:
                raise StorageError(f"no region manifest in {region_dir} (CURRENT is missing)")
            fs.makedirs(region_dir)
            m = cls._fresh(fs, region_dir, 1, ManifestState(), max_manifest_bytes)
        else:
            number, path = _read_current(fs, region_dir)
            report = RecoveryReport()
            state = _replay(fs, path, report)
            if report.torn_tails or fs.file_size(path) >= max_manifest_bytes:
                # never append after a torn tail: it would become mid-file corruption
                m = cls._fresh(fs, region_dir, number + 1, state, max_manifest_bytes)
                fs.remove(path)
            else:
                writer = LogWriter(fs.open_write(path, append=True))
                m = cls(fs, region_dir, number, writer, state, max_manifest_bytes)
            m.recovery_report = report
        m._remove_strays()
        return m

    @classmethod
    def _fresh(
        cls, fs: FileSystem, region_dir: str, number: int, state: ManifestState, max_bytes: int
    ) -> Manifest:
        writer = _write_snapshot(fs, region_dir, number, state.snapshot_edit())
        try:
            _set_current(fs, region_dir, number)
        except BaseException:
            writer.close()
            raise
        return cls(fs, region_dir, number, writer, state, max_bytes)

    def _remove_strays(self) -> None:
        for name in self._fs.listdir(self._dir):
            parsed = filenames.parse_file_name(name)
            stray = parsed is not None and (
                (parsed[0] is filenames.FileKind.MANIFEST and parsed[1] != self._number)
                or name in (filenames.CURRENT + filenames.TEMP_SUFFIX,)
                or (name.startswith("MANIFEST-") and parsed[0] is filenames.FileKind.TEMP)
            )
            if stray:
                _log.info("removing stray manifest file %s/%s", self._dir, name)
                self._fs.remove(f"{self._dir}/{name}")

    # ------------------------------------------------------------------ reading

    @property
    def state(self) -> ManifestState:
        """A copy of the current state (O(live files))."""
        with self._lock:
            return self._state.copy()

    @property
    def flushed_seq(self) -> int:
        with self._lock:
            return self._state.flushed_seq

    @property
    def next_file_number(self) -> int:
        """The next number ``allocate_file_number`` returns."""
        with self._lock:
            return self._next_alloc

    def peek_next_file_number(self) -> int:
        """Same as ``next_file_number``: the next number ``allocate_file_number`` returns."""
        return self.next_file_number

    @property
    def path(self) -> str:
        """The manifest file CURRENT names."""
        with self._lock:
            return self._writer.path

    # ------------------------------------------------------------------ writing

    def allocate_file_number(self) -> int:
        """A store-file number never returned before by this manifest (memory only).

        The counter is persisted by the next ``apply``; a number allocated by a process
        that crashed before any apply may be handed out again, which is safe because
        no committed edit names it (an orphan file with it is overwritten or GC'd).
        """
        with self._lock:
            n = self._next_alloc
            self._next_alloc = n + 1
            return n

    def apply(self, edit: VersionEdit) -> None:
        """Commit ``edit``: append its record, fsync, then update the state.

        ``next_file_number`` is always persisted (raised to cover every allocated
        number). Cost: 1 write + 1 fdatasync; a rewrite (2 fsyncs + rename) when the
        file has grown past ``max_manifest_bytes``. Raises ValueError (edit
        inconsistent with the state; nothing written), ClosedError, StorageError
        (StorageFull for a full disk): the edit is not in the state, and its record,
        which may have reached the file, never counts: the next apply first rewrites
        the state to a fresh manifest (``needs_rewrite``). Until then a crash may bring
        the failed edit back at the next open, so its caller keeps the files it names.
        """
        with self._lock:
            if self._closed:
                raise ClosedError(f"the manifest of {self._dir} is closed")
            top_added = max((m.file_number + 1 for m in edit.added_files), default=0)
            next_number = max(edit.next_file_number or 0, self._next_alloc, top_added)
            edit = replace(edit, next_file_number=next_number)
            problem = self._state.problem_with(edit)
            if problem is not None:
                raise ValueError(f"cannot apply version edit: it {problem}")
            if self._needs_rewrite:
                self._rewrite_locked(required=True)
            payload = encode_version_edit(edit)
            failpoints.hit("storage.manifest.before_write")
            try:
                self._writer.add_record(RecordType.VERSION_EDIT, payload)
                self._writer.sync()
                failpoints.hit("storage.manifest.after_write")
            except Exception as e:
                self._needs_rewrite = True
                _log.error("manifest %s: an edit failed (%r); rewriting it", self._writer.path, e)
                raise storage_error(e, f"writing the manifest {self._writer.path}") from e
            self._state.apply(edit)
            self._next_alloc = max(self._next_alloc, self._state.next_file_number)
            if self._writer.size() >= self._max_bytes:
                self._rewrite_locked(required=False)

    @property
    def needs_rewrite(self) -> bool:
        """An edit failed and its record may be in the file (see ``apply``)."""
        with self._lock:
            return self._needs_rewrite

    def rewrite(self) -> None:
        """Write the state as one snapshot to MANIFEST-(n+1), switch CURRENT, delete the old."""
        with self._lock:
            if self._closed:
                raise ClosedError(f"the manifest of {self._dir} is closed")
            self._rewrite_locked(required=True)

    def _rewrite_locked(self, *, required: bool) -> None:
        # REQUIRES: self._lock held. ``required``: raise StorageError when it cannot be
        # done (otherwise a failed size-triggered rewrite just keeps the old file).
        number = self._number + 1
        snapshot = self._state.snapshot_edit()
        snapshot.next_file_number = max(self._next_alloc, self._state.next_file_number)
        path = filenames.manifest_file_name(self._dir, number)
        try:
            writer = _write_snapshot(self._fs, self._dir, number, snapshot)
        except Exception as e:
            # CURRENT still names the old file: nothing changed
            try:
                self._fs.remove(path)
            except OSError:
                pass  # a stray, removed at the next open
            if required:
                raise storage_error(e, f"rewriting the manifest of {self._dir}") from e
            _log.error("manifest rewrite of %s failed, keeping the old file: %r", self._dir, e)
            return
        old = self._writer
        try:
            failpoints.hit("storage.manifest.before_set_current")
            _set_current(self._fs, self._dir, number)
        except Exception as e:
            # CURRENT may name either file (both hold every committed edit): append to
            # neither; the next apply rewrites above both and switches again
            writer.close()
            self._number = number
            self._needs_rewrite = True
            if required:
                raise storage_error(e, f"switching the manifest of {self._dir}") from e
            _log.error("manifest switch of %s failed, redone by the next edit: %r", self._dir, e)
            return
        self._writer = writer
        self._number = number
        self._needs_rewrite = False
        old.close()
        for name in self._fs.listdir(self._dir):  # the old file, and any left by a failed switch
            parsed = filenames.parse_file_name(name)
            if parsed and parsed[0] is filenames.FileKind.MANIFEST and parsed[1] < number:
                self._fs.remove(f"{self._dir}/{name}")
        _log.info("rewrote manifest of %s as %s", self._dir, writer.path)

    def close(self) -> None:
        """Close the file (every applied edit is already durable). Idempotent."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._writer.close()


def _write_snapshot(fs: FileSystem, region_dir: str, number: int, edit: VersionEdit) -> LogWriter:
    path = filenames.manifest_file_name(region_dir, number)
    writer = LogWriter.create(fs, path, MANIFEST_MAGIC, MANIFEST_VERSION)
    try:
        writer.add_record(RecordType.VERSION_EDIT, encode_version_edit(edit))
        writer.sync()
    except BaseException:
        writer.close()
        raise
    return writer


def _set_current(fs: FileSystem, region_dir: str, number: int) -> None:
    """Point CURRENT at MANIFEST-``number``: write CURRENT.tmp, fsync, rename (durable)."""
    current = filenames.current_file_name(region_dir)
    tmp = filenames.temp_file_name(current)
    name = filenames.manifest_file_name("", number)
    f = fs.open_write(tmp)
    try:
        f.write(name.encode("ascii") + b"\n")
        f.sync()
    finally:
        f.close()
    fs.rename(tmp, current)
