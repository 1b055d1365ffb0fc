"""An in-memory FileSystem that remembers what a power cut would keep: crash tests without a disk.

Role: a drop-in ``FileSystem`` (storage/fs.py): ``Engine(path, fs=MemFS())`` runs the
whole engine in memory, and ``power_cut()`` then shows what survives a machine
crash. Public, for users' tests of their own code too, the way pebble's
``vfs.NewMem``/``vfs.NewCrashableMem`` are used; ``storage/faultfs.py`` wraps it (or
any FileSystem) to inject errors.
Durability model (what POSIX promises of a disk behind a page cache):
  - a file has visible content (what reads see, the page cache) and durable content,
    which ``WritableFile.sync()`` sets to the visible content;
  - a file name created, removed, renamed or linked becomes durable when its
    directory is synced (``sync_dir``); ``rename`` and ``link`` sync the
    destination's directory themselves, as LocalFS does (the protocol documents
    ``rename`` as durable);
  - a directory is durable as soon as ``makedirs`` returns (a simplification:
    journaling filesystems commit a mkdir with the next fsync; LocalFS does not sync
    the parent); ``rmtree`` becomes durable when the parent directory is synced;
  - with ``dirsync=True`` every name change is durable at once (a filesystem mounted
    ``-o dirsync``): file data still needs ``sync``.
  ``power_cut()`` keeps only what is durable (optionally a random prefix of each
  file's unsynced appended tail: a torn write); ``crash()`` is a process crash: the
  visible content stays (not durable). Both invalidate every open handle (using one
  raises OSError(EIO)) and release every lock.
Capacity: with ``capacity_bytes``, the bytes of live files (a visible name or an open
handle, as a real disk frees an unlinked file at its last close) never exceed it: a
write that would cross it writes what fits and raises OSError(ENOSPC); removing or
truncating files makes room again.
Invariants: ``used_bytes`` equals the size sum of live files; every durable file's
directory is a durable directory; a handle is usable only in the generation
(power cut / crash count) it was opened in.
Concurrency: thread-safe: ``self._lock`` guards the filesystem, its files and its
handles (a pread copies the bytes under it).
Hot path: no (tests); ``write`` is O(len(data)), ``listdir`` and ``sync_dir`` O(files).
"""

from __future__ import annotations

import errno
import os
import posixpath
import random
import threading

from hedgerow.errors import DirectoryLocked

__all__ = ["MemFS", "MemRandomAccessFile", "MemWritableFile"]


class _Inode:
    """One file's bytes; several names may link to it."""

    __slots__ = ("data", "durable", "links", "handles")

    def __init__(self) -> None:
        self.data = bytearray()  # visible content
        self.durable = b""  # content at the last sync (b"": never synced)
        self.links = 0  # visible names
        self.handles = 0  # open handles (of the current generation)


def _oserror(code: int, path: str, why: str = "") -> OSError:
    msg = os.strerror(code) + (f" ({why})" if why else "")
    return OSError(code, msg, path)


class MemWritableFile:
    """A MemFS file opened for writing (``WritableFile``)."""

    __slots__ = ("path", "_fs", "_inode", "_gen", "_pos", "_append", "_closed")

    def __init__(self, fs: MemFS, path: str, inode: _Inode, append: bool) -> None:
        self.path = path
        self._fs = fs
        self._inode = inode
        self._gen = fs._generation
        self._append = append
        self._pos = len(inode.data)
        self._closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        fs = self._fs
        with fs._lock:
            fs._check_handle(self.path, self._gen, self._closed)
            ino = self._inode
            if self._append:
                self._pos = len(ino.data)
            buf = bytes(data)
            end = self._pos + len(buf)
            grow = max(0, end - len(ino.data))
            room = fs._room()
            full = grow > room
            if full:  # a real disk writes what fits, then reports ENOSPC
                buf = buf[: max(0, len(buf) - (grow - room))]
                end = self._pos + len(buf)
                grow = max(0, end - len(ino.data))
            if self._pos > len(ino.data):
                ino.data.extend(bytes(self._pos - len(ino.data)))
            ino.data[self._pos : end] = buf
            fs._used += grow
            self._pos = end
            if full:
                raise _oserror(errno.ENOSPC, self.path, "MemFS capacity reached")

    def sync(self) -> None:
        fs = self._fs
        with fs._lock:
            fs._check_handle(self.path, self._gen, self._closed)
            self._inode.durable = bytes(self._inode.data)

    def tell(self) -> int:
        return self._pos

    def truncate(self, size: int) -> None:
        if size < 0:
            raise _oserror(errno.EINVAL, self.path, "negative size")
        fs = self._fs
        with fs._lock:
            fs._check_handle(self.path, self._gen, self._closed)
            ino = self._inode
            grow = size - len(ino.data)
            if grow > fs._room():
                raise _oserror(errno.ENOSPC, self.path, "MemFS capacity reached")
            if grow < 0:
                del ino.data[size:]
            else:
                ino.data.extend(bytes(grow))
            fs._used += grow
            self._pos = size

    def close(self) -> None:
        fs = self._fs
        with fs._lock:
            if self._closed:
                return
            self._closed = True
            if self._gen == fs._generation:  # a stale handle holds nothing any more
                self._inode.handles -= 1
                fs._release(self._inode)


class MemRandomAccessFile:
    """A MemFS file opened for positional reads (``RandomAccessFile``)."""

    __slots__ = ("path", "_fs", "_inode", "_gen", "_closed")

    def __init__(self, fs: MemFS, path: str, inode: _Inode) -> None:
        self.path = path
        self._fs = fs
        self._inode = inode
        self._gen = fs._generation
        self._closed = False

    def pread(self, n: int, offset: int) -> bytes:
        fs = self._fs
        with fs._lock:
            fs._check_handle(self.path, self._gen, self._closed)
            return bytes(self._inode.data[offset : offset + n])

    def size(self) -> int:
        fs = self._fs
        with fs._lock:
            fs._check_handle(self.path, self._gen, self._closed)
            return len(self._inode.data)

    def close(self) -> None:
        fs = self._fs
        with fs._lock:
            if self._closed:
                return
            self._closed = True
            if self._gen == fs._generation:
                self._inode.handles -= 1
                fs._release(self._inode)


class _MemLock:
    def __init__(self, fs: MemFS, path: str) -> None:
        self._fs = fs
        self._path = path
        self._gen = fs._generation

    def release(self) -> None:
        fs = self._fs
        with fs._lock:
            if self._gen == fs._generation:
                fs._locks.discard(self._path)
            self._gen = -1


class MemFS:
    """An in-memory filesystem with a durability model. Methods by purpose:

    - the ``FileSystem`` protocol: ``open_read``, ``open_write``, ``read_all``,
      ``exists``, ``listdir``, ``makedirs``, ``remove``, ``rmtree``, ``rename``,
      ``link``, ``file_size``, ``sync_dir``, ``lock``
    - crashes: ``power_cut`` (keep what is durable), ``crash`` (a process crash)
    - space: ``capacity_bytes`` (settable), ``used_bytes``

    Paths are normalised with ``posixpath.normpath``; ``/`` and ``.`` always exist.

    >>> fs = MemFS()
    >>> fs.makedirs("/d")
    >>> f = fs.open_write("/d/a"); f.write(b"kept"); f.sync(); f.write(b" lost"); f.close()
    >>> fs.sync_dir("/d")
    >>> fs.read_all("/d/a")
    b'kept lost'
    >>> fs.power_cut()
    >>> fs.read_all("/d/a")
    b'kept'
    """

    def __init__(self, *, capacity_bytes: int | None = None, dirsync: bool = False) -> None:
        self._lock = threading.RLock()
        #: name changes are durable at once (constant after __init__)
        self.dirsync = dirsync
        # guarded by self._lock
        #: bytes live files may hold in total (None: unlimited); settable
        self.capacity_bytes = capacity_bytes
        self._files: dict[str, _Inode] = {}  # visible names
        self._dirs: set[str] = {"/", "."}
        self._durable_files: dict[str, _Inode] = {}  # names as a power cut leaves them
        self._durable_dirs: set[str] = {"/", "."}
        self._locks: set[str] = set()
        self._generation = 0  # bumped by power_cut and crash: older handles are stale
        self._used = 0
        #: how many power cuts and crashes happened
        self.power_cuts = 0
        self.crashes = 0

    # ---- internals (REQUIRE self._lock held) ----------------------------------------------
    @staticmethod
    def _norm(path: str) -> str:
        return posixpath.normpath(path)

    @staticmethod
    def _parent(path: str) -> str:
        return posixpath.dirname(path) or "."

    def _room(self) -> int:
        cap = self.capacity_bytes
        return (1 << 62) if cap is None else max(0, cap - self._used)

    def _check_handle(self, path: str, gen: int, closed: bool) -> None:
        if closed:
            raise _oserror(errno.EBADF, path, "file is closed")
        if gen != self._generation:
            raise _oserror(errno.EIO, path, "handle opened before a MemFS power cut or crash")

    def _release(self, ino: _Inode) -> None:
        """Free a file's bytes once nothing names it or holds it open."""
        if ino.links == 0 and ino.handles == 0:
            self._used -= len(ino.data)

    def _unlink(self, path: str) -> None:
        ino = self._files.pop(path)
        ino.links -= 1
        self._release(ino)

    def _need_dir(self, path: str, what: str) -> None:
        parent = self._parent(path)
        if parent not in self._dirs:
            if parent in self._files:
                raise _oserror(errno.ENOTDIR, path, f"{parent} is a file")
            raise _oserror(errno.ENOENT, path, f"no directory {parent} to {what} in")

    def _changed(self, path: str) -> None:
        """A name in ``path``'s directory changed: durable now under ``dirsync``."""
        if self.dirsync:
            self._sync_dir_locked(self._parent(path))

    def _sync_dir_locked(self, path: str) -> None:
        if path not in self._dirs:
            raise _oserror(errno.ENOENT, path, "no such directory")
        parent = self._parent
        for name, ino in self._files.items():
            if parent(name) == path:
                self._durable_files[name] = ino
        for name in [n for n in self._durable_files if parent(n) == path]:
            if name not in self._files:
                del self._durable_files[name]
        for d in [d for d in self._durable_dirs if d != path and parent(d) == path]:
            if d not in self._dirs:  # removed (rmtree): its whole durable subtree goes
                prefix = d + "/"
                self._durable_dirs = {
                    x for x in self._durable_dirs if x != d and not x.startswith(prefix)
                }
                for name in [n for n in self._durable_files if n.startswith(prefix)]:
                    del self._durable_files[name]

    def _restart(self) -> None:
        """Invalidate handles and locks; recount links and used bytes."""
        self._generation += 1
        self._locks.clear()
        inodes = {id(i): i for i in self._files.values()}
        for ino in inodes.values():
            ino.links = 0
            ino.handles = 0
        for ino in self._files.values():
            ino.links += 1
        self._used = sum(len(i.data) for i in inodes.values())

    # ---- crashes ----------------------------------------------------------------------------
    def power_cut(self, rng: random.Random | None = None) -> None:
        """The machine loses power: keep only what is durable.

        Files revert to their content at their last ``sync``; names created, removed or
        renamed since their directory's last sync are undone. With ``rng``, each file
        whose visible content extends its durable content keeps a random prefix of the
        unsynced tail too (the disk wrote part of it back before the cut). Every open
        handle becomes stale and every lock is released.
        """
        with self._lock:
            self.power_cuts += 1
            self._files = dict(self._durable_files)
            self._dirs = set(self._durable_dirs)
            for ino in {id(i): i for i in self._files.values()}.values():
                keep = ino.durable
                if (
                    rng is not None
                    and len(ino.data) > len(keep)
                    and ino.data.startswith(keep)
                    and rng.random() < 0.5
                ):
                    keep = bytes(ino.data[: rng.randint(len(keep), len(ino.data))])
                ino.data = bytearray(keep)
                ino.durable = keep
            self._restart()

    def crash(self) -> None:
        """The process dies, the machine does not: visible content stays (still not durable),
        open handles become stale, locks are released."""
        with self._lock:
            self.crashes += 1
            self._restart()

    # ---- space ------------------------------------------------------------------------------
    @property
    def used_bytes(self) -> int:
        """Bytes held by live files (a visible name or an open handle)."""
        with self._lock:
            return self._used

    # ---- the FileSystem protocol ------------------------------------------------------------
    def open_read(self, path: str) -> MemRandomAccessFile:
        path = self._norm(path)
        with self._lock:
            ino = self._files.get(path)
            if ino is None:
                if path in self._dirs:
                    raise _oserror(errno.EISDIR, path)
                raise _oserror(errno.ENOENT, path)
            ino.handles += 1
            return MemRandomAccessFile(self, path, ino)

    def open_write(self, path: str, *, append: bool = False) -> MemWritableFile:
        """Create or open ``path`` for writing; without ``append`` it is truncated (O_TRUNC)."""
        path = self._norm(path)
        with self._lock:
            if path in self._dirs:
                raise _oserror(errno.EISDIR, path)
            self._need_dir(path, "create a file")
            ino = self._files.get(path)
            if ino is None:
                ino = _Inode()
                ino.links = 1
                self._files[path] = ino
                self._changed(path)
            elif not append:
                self._used -= len(ino.data)
                ino.data = bytearray()
            ino.handles += 1
            return MemWritableFile(self, path, ino, append)

    def read_all(self, path: str) -> bytes:
        path = self._norm(path)
        with self._lock:
            ino = self._files.get(path)
            if ino is None:
                raise _oserror(errno.EISDIR if path in self._dirs else errno.ENOENT, path)
            return bytes(ino.data)

    def exists(self, path: str) -> bool:
        path = self._norm(path)
        with self._lock:
            return path in self._files or path in self._dirs

    def listdir(self, path: str) -> list[str]:
        """Sorted names in directory ``path`` ([] if there is none, as LocalFS)."""
        path = self._norm(path)
        with self._lock:
            if path not in self._dirs:
                return []
            parent = self._parent
            names = [posixpath.basename(p) for p in self._files if parent(p) == path]
            names += [posixpath.basename(d) for d in self._dirs if d != path and parent(d) == path]
            return sorted(names)

    def makedirs(self, path: str) -> None:
        path = self._norm(path)
        with self._lock:
            todo = []
            p = path
            while p not in self._dirs:
                if p in self._files:
                    raise _oserror(errno.EEXIST if p == path else errno.ENOTDIR, p, "a file")
                todo.append(p)
                p = self._parent(p)
            self._dirs.update(todo)
            self._durable_dirs.update(todo)

    def remove(self, path: str) -> None:
        """Unlink a file (durable once its directory is synced); a missing file is fine."""
        path = self._norm(path)
        with self._lock:
            if path in self._dirs:
                raise _oserror(errno.EISDIR, path)
            if path in self._files:
                self._unlink(path)
                self._changed(path)

    def rmtree(self, path: str) -> None:
        """Remove a directory and everything under it (durable once the parent is synced)."""
        path = self._norm(path)
        with self._lock:
            if path in ("/", "."):
                raise _oserror(errno.EBUSY, path, "MemFS will not remove its root")
            prefix = path + "/"
            for name in [n for n in self._files if n.startswith(prefix)]:
                self._unlink(name)
            self._dirs = {d for d in self._dirs if d != path and not d.startswith(prefix)}
            self._changed(path)

    def rename(self, src: str, dst: str) -> None:
        """Atomically replace file ``dst`` with file ``src``, durably (syncs dst's directory)."""
        src, dst = self._norm(src), self._norm(dst)
        with self._lock:
            ino = self._files.get(src)
            if ino is None:
                raise _oserror(errno.EISDIR if src in self._dirs else errno.ENOENT, src)
            if dst in self._dirs:
                raise _oserror(errno.EISDIR, dst)
            self._need_dir(dst, "rename into")
            if src != dst:
                if dst in self._files:
                    self._unlink(dst)
                del self._files[src]
                self._files[dst] = ino
                self._changed(src)
            self._sync_dir_locked(self._parent(dst))

    def link(self, src: str, dst: str) -> None:
        """Make ``dst`` another name of file ``src``, durably (syncs dst's directory)."""
        src, dst = self._norm(src), self._norm(dst)
        with self._lock:
            ino = self._files.get(src)
            if ino is None:
                raise _oserror(errno.EPERM if src in self._dirs else errno.ENOENT, src)
            if dst in self._files or dst in self._dirs:
                raise _oserror(errno.EEXIST, dst)
            self._need_dir(dst, "link into")
            self._files[dst] = ino
            ino.links += 1
            self._sync_dir_locked(self._parent(dst))

    def file_size(self, path: str) -> int:
        path = self._norm(path)
        with self._lock:
            ino = self._files.get(path)
            if ino is None:
                raise _oserror(errno.ENOENT, path)
            return len(ino.data)

    def sync_dir(self, path: str) -> None:
        """Make the names in directory ``path`` durable (creates, removes, renames, links)."""
        path = self._norm(path)
        with self._lock:
            self._sync_dir_locked(path)

    def lock(self, path: str) -> _MemLock:
        """Take an in-process exclusive lock on ``path`` (the file is created, like LocalFS)."""
        path = self._norm(path)
        with self._lock:
            if path in self._locks:
                raise DirectoryLocked(
                    f"{self._parent(path)} is in use (MemFS lock file {path}); close it there first"
                )
            if path not in self._files:
                self.open_write(path).close()
            self._locks.add(path)
            return _MemLock(self, path)
