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
from pathlib import Path

import pytest

from hedgerow._core import WalWriter, frame_record
from hedgerow.errors import StorageError, StorageFull
from hedgerow.storage.faultfs import FaultFS
from hedgerow.storage.fs import FileSystem, LocalFS
from hedgerow.storage.memfs import MemFS
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
