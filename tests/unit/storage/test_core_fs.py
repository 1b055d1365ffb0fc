"""The core's file-system seam (rust/src/fs.rs; RFC 0002, "The FileSystem seam").

One script of file operations runs three ways: through the Python ``FileSystem`` itself
(the reference), through the core's ``NativeFs`` (for ``LocalFS``) and through its
``PyFs`` (for MemFS, FaultFS or any other protocol object, each call re-entering
Python from a thread that released the GIL). The results must agree, and an OS error
must become the exception ``hedgerow.errors.storage_error`` makes of it.
"""

from __future__ import annotations

import errno
import random
from pathlib import Path
from typing import Any

import pytest

import hedgerow._core as core
from hedgerow.errors import StorageError, StorageFull
from hedgerow.storage.faultfs import FaultFS
from hedgerow.storage.fs import FileSystem, LocalFS
from hedgerow.storage.memfs import MemFS


def _script(d: str) -> list[tuple[Any, ...]]:
    return [
        ("makedirs", f"{d}/sub/deeper"),
        ("write", f"{d}/a", b"hello world", False),
        ("write", f"{d}/a", b"!", True),
        ("read", f"{d}/a", 5, 6),
        ("read", f"{d}/a", 100, 10),
        ("read", f"{d}/a", 10, 100),
        ("read_all", f"{d}/a"),
        ("size", f"{d}/a"),
        ("truncate_write", f"{d}/t", b"abcdef", 2),
        ("read_all", f"{d}/t"),
        ("link", f"{d}/a", f"{d}/b"),
        ("rename", f"{d}/b", f"{d}/c"),
        ("listdir", d),
        ("listdir", f"{d}/missing"),
        ("exists", f"{d}/c"),
        ("exists", f"{d}/b"),
        ("remove", f"{d}/c"),
        ("remove", f"{d}/c"),
        ("rmtree", f"{d}/sub"),
        ("rmtree", f"{d}/sub"),
        ("listdir", d),
    ]


def _reference(fs: FileSystem, ops: list[tuple[Any, ...]]) -> list[Any]:
    """What the Python FileSystem itself answers to the same script."""
    out: list[Any] = []
    for op in ops:
        name, path = op[0], op[1]
        if name in ("write", "truncate_write"):
            w = fs.open_write(path, append=op[3] if name == "write" else False)
            w.write(op[2])
            if name == "truncate_write":
                w.truncate(op[3])
                w.write(op[2])
            w.sync()
            out.append(w.tell())
            w.close()
        elif name == "read":
            r = fs.open_read(path)
            out.append(r.pread(op[2], op[3]))
            r.close()
        elif name == "read_all":
            out.append(fs.read_all(path))
        elif name == "size":
            out.append(fs.file_size(path))
        elif name == "listdir":
            out.append(fs.listdir(path))
        elif name == "exists":
            out.append(fs.exists(path))
        elif name in ("rename", "link"):
            getattr(fs, name)(path, op[2])
            out.append(None)
        else:
            getattr(fs, name)(path)
            out.append(None)
    return out


class _Subclass(LocalFS):
    """Not exactly LocalFS: the core must call its methods (PyFs), not bypass them."""

    def __init__(self) -> None:
        self.calls = 0

    def read_all(self, path: str) -> bytes:
        self.calls += 1
        return super().read_all(path)


def test_native_and_python_backed_agree_with_the_python_filesystem(tmp_path: Path) -> None:
    expected = _reference(LocalFS(), _script(str(tmp_path / "ref")))
    assert expected[6] == b"hello world!" and expected[-1] == ["a", "t"]
    native = core._fs_script(LocalFS(), _script(str(tmp_path / "native")))
    assert native == expected
    assert core._fs_script(None, _script(str(tmp_path / "none"))) == expected
    sub = _Subclass()
    assert core._fs_script(sub, _script(str(tmp_path / "sub"))) == expected
    assert sub.calls == 2, "a LocalFS subclass goes through Python"
    mem = MemFS()
    assert core._fs_script(mem, _script("/m")) == expected
    assert mem.read_all("/m/t") == b"abcdef"[:2] + b"abcdef"


def test_os_errors_become_storage_errors_naming_the_operation(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope" / "x")
    (got,) = core._fs_script(LocalFS(), [("read_all", missing)])
    assert type(got) is StorageError
    assert f"read {missing}" in str(got)
    assert isinstance(got.__cause__, FileNotFoundError)
    (got,) = core._fs_script(MemFS(), [("read_all", "/nope")])
    assert isinstance(got, OSError)  # a Python file system's own exception, unchanged


@pytest.mark.parametrize("op", ["write", "sync", "open_write"])
def test_faults_of_a_python_filesystem_reach_the_caller(op: str) -> None:
    fs = FaultFS(MemFS(), random.Random(1))
    fs.makedirs("/d")
    fs.fail_next(op, errno=errno.ENOSPC)
    (got,) = core._fs_script(fs, [("write", "/d/f", b"data", False)])
    assert isinstance(got, OSError) and got.errno == errno.ENOSPC
    assert fs.injected == 1
    # the next call is not picked: it goes through
    assert core._fs_script(fs, [("write", "/d/f", b"data", False)]) == [4]


def test_a_full_local_disk_is_storage_full() -> None:
    """ENOSPC from the OS (here /dev/full) maps to StorageFull, as storage_error does."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    (got,) = core._fs_script(LocalFS(), [("write", "/dev/full", b"x" * 4096, True)])
    assert isinstance(got, StorageFull), got
    assert "write /dev/full" in str(got)


def test_an_object_that_is_not_a_filesystem_is_refused() -> None:
    with pytest.raises(TypeError, match="FileSystem"):
        core._fs_script(object(), [("read_all", "/x")])
