"""The filesystem interface the engine does all its file I/O through.

Role: every reader and writer in ``storage/`` takes a ``FileSystem``; ``LocalFS``
is the real one. ``storage/memfs.py`` (``MemFS``: in memory, with a durability
model and power cuts) and ``storage/faultfs.py`` (``FaultFS``: fails, shortens or
lies about any call of another FileSystem) implement the same protocol for tests;
a shared filesystem (fsspec) will plug in here too, without touching the engine.
Invariants: paths are ``str``, absolute or relative to the process cwd, "/"-separated.
Concurrency: ``LocalFS`` is stateless; a ``WritableFile`` is not thread-safe
(its owner serialises writes); a ``RandomAccessFile`` is safe for concurrent
``pread`` (the OS call takes an explicit offset).
"""

from __future__ import annotations

import errno
import fcntl
import os
from typing import Protocol

from hedgerow.errors import DirectoryLocked

__all__ = [
    "FileLock",
    "FileSystem",
    "LocalFS",
    "LocalRandomAccessFile",
    "LocalWritableFile",
    "RandomAccessFile",
    "WritableFile",
]


class RandomAccessFile(Protocol):
    """A file opened for positional reads."""

    path: str

    def pread(self, n: int, offset: int) -> bytes:
        """Read up to ``n`` bytes at ``offset`` (fewer only at end of file)."""
        ...

    def size(self) -> int: ...

    def close(self) -> None: ...


class WritableFile(Protocol):
    """A file opened for appending."""

    path: str

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append all of ``data``; in the OS page cache when this returns."""
        ...

    def sync(self) -> None:
        """fdatasync: on stable storage when this returns."""
        ...

    def tell(self) -> int: ...

    def truncate(self, size: int) -> None:
        """Cut the file to ``size`` bytes; ``tell()`` becomes ``size``.

        Not durable until the next ``sync``. Used to drop a partly written record
        after a failed write, so that nothing after it lands behind garbage.
        """
        ...

    def close(self) -> None: ...


class FileLock(Protocol):
    def release(self) -> None: ...


class FileSystem(Protocol):
    """The operations the engine needs."""

    def open_read(self, path: str) -> RandomAccessFile: ...

    def open_write(self, path: str, *, append: bool = False) -> WritableFile: ...

    def read_all(self, path: str) -> bytes: ...

    def exists(self, path: str) -> bool: ...

    def listdir(self, path: str) -> list[str]: ...

    def makedirs(self, path: str) -> None: ...

    def remove(self, path: str) -> None: ...

    def rmtree(self, path: str) -> None: ...

    def rename(self, src: str, dst: str) -> None:
        """Atomically replace ``dst`` with ``src`` and make the rename durable."""
        ...

    def link(self, src: str, dst: str) -> None:
        """Make ``dst`` another name of the immutable file ``src`` (a copy where links fail)."""
        ...

    def file_size(self, path: str) -> int: ...

    def sync_dir(self, path: str) -> None: ...

    def lock(self, path: str) -> FileLock:
        """Take an exclusive advisory lock; raise DirectoryLocked if held elsewhere."""
        ...


class LocalRandomAccessFile:
    """A local file read with ``os.pread``."""

    __slots__ = ("path", "_fd")

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDONLY)

    def pread(self, n: int, offset: int) -> bytes:
        return os.pread(self._fd, n, offset)

    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


class LocalWritableFile:
    """A local file written with ``os.write`` (no user-space buffer: written data is in the OS)."""

    __slots__ = ("path", "_fd", "_pos")

    def __init__(self, path: str, append: bool) -> None:
        self.path = path
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        self._fd = os.open(path, flags, 0o644)
        self._pos = os.lseek(self._fd, 0, os.SEEK_END)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            self._pos += n
            view = view[n:]

    def sync(self) -> None:
        os.fdatasync(self._fd)

    def tell(self) -> int:
        return self._pos

    def truncate(self, size: int) -> None:
        os.ftruncate(self._fd, size)
        # without O_APPEND the next write goes to the file offset: move it too
        os.lseek(self._fd, size, os.SEEK_SET)
        self._pos = size

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class _LocalLock:
    def __init__(self, fd: int) -> None:
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1


class LocalFS:
    """The local filesystem."""

    def open_read(self, path: str) -> LocalRandomAccessFile:
        return LocalRandomAccessFile(path)

    def open_write(self, path: str, *, append: bool = False) -> LocalWritableFile:
        return LocalWritableFile(path, append)

    def read_all(self, path: str) -> bytes:
        with open(path, "rb") as f:
            return f.read()

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except FileNotFoundError:
            return []

    def makedirs(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)

    def remove(self, path: str) -> None:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass

    def rmtree(self, path: str) -> None:
        import shutil

        shutil.rmtree(path, ignore_errors=True)

    def rename(self, src: str, dst: str) -> None:
        os.replace(src, dst)
        self.sync_dir(os.path.dirname(dst) or ".")

    def link(self, src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError as e:
            if e.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
            import shutil

            tmp = dst + ".tmp"
            shutil.copyfile(src, tmp)
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, dst)
        self.sync_dir(os.path.dirname(dst) or ".")

    def file_size(self, path: str) -> int:
        return os.path.getsize(path)

    def sync_dir(self, path: str) -> None:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def lock(self, path: str) -> _LocalLock:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise DirectoryLocked(
                    f"{os.path.dirname(path) or '.'} is in use by another process "
                    f"(lock file {path}); close it there first"
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return _LocalLock(fd)
