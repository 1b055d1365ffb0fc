"""The WAL's current file in the core (rust/src/wal_writer.rs, ``_core.WalWriter``).

The same calls run on the native file system (``LocalFS``: I/O without the GIL, the
fdatasync through a second descriptor) and through a Python one (MemFS: each call
re-enters Python), and leave the same bytes; errors are the file system's, and a failed
create leaves no file behind.
"""

from __future__ import annotations

import errno
import random
import threading
import time
from pathlib import Path

import pytest

from hedgerow._core import WalWriter, frame_record
from hedgerow.errors import StorageError, StorageFull
from hedgerow.storage.faultfs import FaultFS
from hedgerow.storage.fs import FileSystem, LocalFS, WritableFile
from hedgerow.storage.memfs import MemFS
from hedgerow.storage.wal import Durability, WriteAheadLog, read_wal_dir
from hedgerow.storage.wal_edit import WalEdit
from hedgerow.storage.wal_format import FILE_HEADER, WAL_MAGIC, WAL_VERSION


def _fs(kind: str, tmp_path: Path) -> tuple[FileSystem, str]:
    if kind == "local":
        return LocalFS(), str(tmp_path)
    fs = MemFS()
    fs.makedirs("/wal")
    return fs, "/wal"


@pytest.mark.parametrize("kind", ["local", "mem"])
def test_create_write_truncate_sync_leave_the_expected_bytes(kind: str, tmp_path: Path) -> None:
    fs, d = _fs(kind, tmp_path)
    path = f"{d}/000000000001.log"
    a, b = frame_record(1, b"first"), frame_record(1, b"second")
    w = WalWriter.create(fs, path, d, WAL_MAGIC, WAL_VERSION, a)
    assert w.native == (kind == "local")
    assert w.path == path
    header = FILE_HEADER.pack(WAL_MAGIC, WAL_VERSION)
    assert w.size() == len(header) + len(a)
    w.write(bytearray(b))  # the pending buffer is a bytearray
    w.write(b"garbage")
    w.truncate(len(header) + len(a) + len(b))  # a failed batch is cut off again
    w.write(b)
    w.sync()
    assert w.size() == len(header) + len(a) + 2 * len(b)
    w.close()
    assert fs.read_all(path) == header + a + b + b
    with pytest.raises(Exception, match="closed"):
        w.sync()
    with pytest.raises(TypeError, match="bytes or bytearray"):
        w.write("text")  # type: ignore[arg-type]


def test_a_large_write_and_concurrent_syncs_on_the_native_fs(tmp_path: Path) -> None:
    # writes run without the GIL, and fdatasyncs from other threads run
    # beside it through their own descriptor
    path = str(tmp_path / "x.log")
    w = WalWriter.create(LocalFS(), path, str(tmp_path), WAL_MAGIC, WAL_VERSION)
    big = frame_record(1, b"x" * 200_000)
    errors: list[BaseException] = []

    def syncer() -> None:
        try:
            for _ in range(20):
                w.sync()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=syncer) for _ in range(2)]
    for t in ts:
        t.start()
    for _ in range(20):
        w.write(big)
    for t in ts:
        t.join()
    w.sync()
    w.close()
    assert not errors
    assert Path(path).stat().st_size == FILE_HEADER.size + 20 * len(big)


def test_a_full_disk_at_create_is_storage_full_and_leaves_no_file() -> None:
    fs = FaultFS(MemFS(), random.Random(1))
    fs.makedirs("/wal")
    fs.fail_next("sync", errno=errno.ENOSPC)
    with pytest.raises(OSError) as info:
        WalWriter.create(fs, "/wal/1.log", "/wal", WAL_MAGIC, WAL_VERSION, b"")
    assert info.value.errno == errno.ENOSPC  # a Python FS's own exception, unchanged
    assert fs.listdir("/wal") == []


def test_native_errors_name_the_operation(tmp_path: Path) -> None:
    missing = str(tmp_path / "no" / "such")
    with pytest.raises(StorageError, match="create") as info:
        WalWriter.create(LocalFS(), missing + "/1.log", missing, WAL_MAGIC, WAL_VERSION)
    assert not isinstance(info.value, StorageFull)
    with pytest.raises(ValueError, match="8 bytes"):
        WalWriter.create(LocalFS(), str(tmp_path / "1.log"), str(tmp_path), b"short", 1)


class _SlowFile:
    """A MemFS file whose write and sync sleep (releasing the GIL) inside the call."""

    def __init__(self, inner: WritableFile) -> None:
        self._inner = inner
        self.path = inner.path

    def write(self, data: bytes | bytearray | memoryview) -> None:
        time.sleep(0.0005)
        self._inner.write(data)

    def sync(self) -> None:
        time.sleep(0.001)
        self._inner.sync()

    def tell(self) -> int:
        return self._inner.tell()

    def truncate(self, size: int) -> None:
        self._inner.truncate(size)

    def close(self) -> None:
        self._inner.close()


class _SlowFS(MemFS):
    def open_write(self, path: str, *, append: bool = False) -> _SlowFile:  # type: ignore[override]
        return _SlowFile(super().open_write(path, append=append))


def test_the_gil_rule_with_a_python_fs_that_releases_the_gil() -> None:
    """RFC 0002's GIL rule: the sync leader holds the file while inside a Python sync that
    sleeps (the GIL released); the write leader must wait for the file detached, or the
    two deadlock (the sleeper needs the GIL back, the waiter holds it)."""
    fs = _SlowFS()
    wal = WriteAheadLog(fs, "/wal")
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(30):
                e = WalEdit(f"r{t}", i, [(b"row", [(b"cf", b"q", 1, 4, b"v")])])
                wal.sync(wal.append(e), Durability.FSYNC_WAL)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=writer, args=(t,), daemon=True) for t in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in ts), "deadlock: writers still blocked"
    assert not errors
    assert wal.syncs > 0 and wal.writes > 0
    wal.close()
    edits = [e for _, _, e in read_wal_dir(fs, "/wal")]
    assert len(edits) == 6 * 30
