"""A FileSystem wrapper that fails, shortens or lies about chosen calls: disk faults on demand.

Role: wraps any ``FileSystem`` (storage/fs.py), usually a ``MemFS``, for tests:
``Engine(path, fs=FaultFS(MemFS(), random.Random(seed)))``. Rules, added and removed
while the engine runs, pick calls by operation name, path glob, probability (the
seeded ``rng``), "skip the first N", "at most N times"; a picked call raises
``OSError(errno)`` (ENOSPC, EIO, ...) without effect, takes effect and then raises,
writes only a prefix of its data and raises (a short write), or, for ``sync`` and
``sync_dir``, returns success without making anything durable (a lying fsync: only
a ``MemFS.power_cut`` shows it). Public, so users can test their own code's fault
handling the way pebble's ``vfs/errorfs`` is used.
Operation names: the protocol's methods (``open_read``, ``open_write``, ``read_all``,
``exists``, ``listdir``, ``makedirs``, ``remove``, ``rmtree``, ``rename``, ``link``,
``file_size``, ``sync_dir``, ``lock``) and the handles' (``write``, ``sync``,
``truncate``, ``pread``, ``size``, ``close``); ``tell`` never fails.
Invariants: a call no rule picks goes to the inner filesystem unchanged; rules are
tried in the order they were added and the first that fires decides; a rule fires
at most ``limit`` times; random draws happen only for calls a rule matches, so a
seed replays exactly for the same sequence of calls.
Concurrency: thread-safe: ``self._lock`` guards the rules, their counters, the
history and ``rng``; the inner call runs outside it.
Hot path: no (tests): one rule scan per call.
"""

from __future__ import annotations

import collections
import enum
import errno as errno_mod
import fnmatch
import os
import random
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from hedgerow.storage.fs import FileLock, FileSystem, RandomAccessFile, WritableFile

__all__ = ["FAULT_OPS", "FaultFS", "FaultKind", "FaultRule", "Injection"]

_T = TypeVar("_T")

#: every operation name a rule may name
FAULT_OPS = frozenset(
    {
        "open_read",
        "open_write",
        "read_all",
        "exists",
        "listdir",
        "makedirs",
        "remove",
        "rmtree",
        "rename",
        "link",
        "file_size",
        "sync_dir",
        "lock",
        "write",
        "sync",
        "truncate",
        "pread",
        "size",
        "close",
    }
)


class FaultKind(enum.Enum):
    """What a rule does to a call it picks."""

    ERROR = "error"
    """Raise ``OSError(errno)`` instead of making the call: nothing happens."""
    ERROR_AFTER = "error_after"
    """Make the call, then raise: it took effect, but the caller is told it failed."""
    SHORT_WRITE = "short_write"
    """``write`` only: write a random strict prefix of the data, then raise."""
    LIE = "lie"
    """``sync``/``sync_dir`` only: return success without syncing anything."""


@dataclass(eq=False)
class FaultRule:
    """One rule; ``FaultFS.add_rule`` builds it. Counters are updated by the FaultFS."""

    ops: frozenset[str]
    path: str | None = None  # fnmatch glob on the path (rename/link: either path)
    kind: FaultKind = FaultKind.ERROR
    errno: int = errno_mod.EIO
    probability: float = 1.0
    skip: int = 0  # let this many matching calls through first
    limit: int | None = None  # fire at most this many times (None: no limit)
    name: str = ""
    # counters, guarded by the FaultFS's lock
    matched: int = 0
    injected: int = 0

    def matches(self, op: str, paths: tuple[str, ...]) -> bool:
        if op not in self.ops:
            return False
        pat = self.path
        return pat is None or any(fnmatch.fnmatchcase(p, pat) for p in paths)


class Injection(NamedTuple):
    """One injected fault, as ``FaultFS.history`` records it."""

    op: str
    path: str
    kind: FaultKind
    errno: int
    rule: str


class FaultWritableFile:
    """A ``WritableFile`` whose calls go through the FaultFS's rules."""

    __slots__ = ("path", "_fs", "_inner")

    def __init__(self, fs: FaultFS, inner: WritableFile) -> None:
        self.path = inner.path
        self._fs = fs
        self._inner = inner

    def write(self, data: bytes | bytearray | memoryview) -> None:
        fs, inner = self._fs, self._inner
        rule = fs._decide("write", (self.path,))
        if rule is None:
            inner.write(data)
            return
        if rule.kind is FaultKind.SHORT_WRITE:
            view = memoryview(data)
            n = fs._randrange(len(view)) if len(view) else 0
            inner.write(view[:n])
        elif rule.kind is FaultKind.ERROR_AFTER:
            inner.write(data)
        raise fs._error(rule, "write", self.path)

    def sync(self) -> None:
        self._fs._run_sync("sync", (self.path,), self._inner.sync)

    def tell(self) -> int:
        return self._inner.tell()

    def truncate(self, size: int) -> None:
        self._fs._run("truncate", (self.path,), lambda: self._inner.truncate(size))

    def close(self) -> None:
        self._fs._run("close", (self.path,), self._inner.close)


class FaultRandomAccessFile:
    """A ``RandomAccessFile`` whose calls go through the FaultFS's rules."""

    __slots__ = ("path", "_fs", "_inner")

    def __init__(self, fs: FaultFS, inner: RandomAccessFile) -> None:
        self.path = inner.path
        self._fs = fs
        self._inner = inner

    def pread(self, n: int, offset: int) -> bytes:
        return self._fs._run("pread", (self.path,), lambda: self._inner.pread(n, offset))

    def size(self) -> int:
        return self._fs._run("size", (self.path,), self._inner.size)

    def close(self) -> None:
        self._fs._run("close", (self.path,), self._inner.close)


class FaultFS:
    """A FileSystem that injects faults into another. Methods by purpose:

    - rules: ``add_rule``, ``fail_next``, ``remove_rule``, ``clear_rules``, ``rules``
    - switching: ``enabled`` (attribute), ``paused()`` (context manager)
    - counting: ``injected``, ``injected_by_op``, ``history``
    - the ``FileSystem`` protocol, each call checked against the rules first

    >>> import errno, random
    >>> from hedgerow.storage.memfs import MemFS
    >>> fs = FaultFS(MemFS(), random.Random(1))
    >>> rule = fs.fail_next("write", path="*.log", errno=errno.ENOSPC)
    >>> f = fs.open_write("/a.log")
    >>> f.write(b"x")
    Traceback (most recent call last):
    OSError: [Errno 28] No space left on device (injected by FaultFS rule 'write*1' into write): '/a.log'
    >>> f.write(b"y"); f.close(); fs.read_all("/a.log"), fs.injected
    (b'y', 1)
    """

    def __init__(self, inner: FileSystem, rng: random.Random, *, history: int = 256) -> None:
        # constant after __init__
        self.inner = inner
        self._lock = threading.Lock()
        # guarded by self._lock
        self._rng = rng
        self._rules: list[FaultRule] = []
        #: False: no rule fires (calls still counted as not injected)
        self.enabled = True
        self.injected = 0
        self.injected_by_op: collections.Counter[str] = collections.Counter()
        #: the last ``history`` injections, oldest first
        self.history: collections.deque[Injection] = collections.deque(maxlen=history)

    # ---- rules ------------------------------------------------------------------------------
    def add_rule(
        self,
        ops: str | Iterable[str],
        *,
        path: str | None = None,
        kind: FaultKind = FaultKind.ERROR,
        errno: int = errno_mod.EIO,
        probability: float = 1.0,
        skip: int = 0,
        limit: int | None = None,
        name: str = "",
    ) -> FaultRule:
        """Add a rule (tried after the existing ones) and return it (for ``remove_rule``).

        ``ops``: an operation name or several; ``path``: an fnmatch glob the path must
        match; ``probability``: chance that a matching call is picked (drawn from the
        rng); ``skip``: matching calls let through first; ``limit``: at most this many
        injections. Raises ValueError for an unknown operation, a kind that does not
        apply to the operations, or a probability outside [0, 1].
        """
        op_set = frozenset([ops] if isinstance(ops, str) else ops)
        unknown = op_set - FAULT_OPS
        if not op_set or unknown:
            raise ValueError(
                f"unknown FaultFS operation(s) {sorted(unknown)}; known: {sorted(FAULT_OPS)}"
            )
        if kind is FaultKind.SHORT_WRITE and op_set != {"write"}:
            raise ValueError("a SHORT_WRITE rule applies to the 'write' operation only")
        if kind is FaultKind.LIE and not op_set <= {"sync", "sync_dir"}:
            raise ValueError("a LIE rule applies to 'sync' and 'sync_dir' only")
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must be in [0, 1], got {probability!r}")
        if skip < 0 or (limit is not None and limit < 0):
            raise ValueError("skip and limit must be >= 0")
        if not name:
            name = "+".join(sorted(op_set)) + ("" if limit is None else f"*{limit}")
        rule = FaultRule(op_set, path, kind, errno, probability, skip, limit, name)
        with self._lock:
            self._rules = [*self._rules, rule]
        return rule

    def fail_next(
        self,
        op: str,
        *,
        n: int = 1,
        path: str | None = None,
        errno: int = errno_mod.EIO,
        kind: FaultKind = FaultKind.ERROR,
    ) -> FaultRule:
        """Fail the next ``n`` calls of ``op`` (on paths matching ``path``): "once" is n=1."""
        return self.add_rule(op, path=path, errno=errno, kind=kind, limit=n)

    def remove_rule(self, rule: FaultRule) -> None:
        """Remove ``rule`` (no error if it is not there any more)."""
        with self._lock:
            self._rules = [r for r in self._rules if r is not rule]

    def clear_rules(self) -> None:
        with self._lock:
            self._rules = []

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No rule fires inside the block (then ``enabled`` is restored)."""
        was = self.enabled
        self.enabled = False
        try:
            yield
        finally:
            self.enabled = was

    # ---- deciding ---------------------------------------------------------------------------
    def _decide(self, op: str, paths: tuple[str, ...]) -> FaultRule | None:
        if not self.enabled:  # fast path
            return None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(op, paths):
                    continue
                rule.matched += 1
                if rule.matched <= rule.skip:
                    continue
                if rule.limit is not None and rule.injected >= rule.limit:
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                rule.injected += 1
                self.injected += 1
                self.injected_by_op[op] += 1
                self.history.append(Injection(op, paths[0], rule.kind, rule.errno, rule.name))
                return rule
        return None

    def _randrange(self, n: int) -> int:
        with self._lock:
            return self._rng.randrange(n)

    @staticmethod
    def _error(rule: FaultRule, op: str, path: str) -> OSError:
        return OSError(
            rule.errno,
            f"{os.strerror(rule.errno)} (injected by FaultFS rule {rule.name!r} into {op})",
            path,
        )

    def _run(self, op: str, paths: tuple[str, ...], call: Callable[[], _T]) -> _T:
        rule = self._decide(op, paths)
        if rule is None:
            return call()
        if rule.kind is FaultKind.ERROR_AFTER:
            call()
        raise self._error(rule, op, paths[0])

    def _run_sync(self, op: str, paths: tuple[str, ...], call: Callable[[], None]) -> None:
        """``_run`` for ``sync``/``sync_dir``, the calls a LIE rule may skip."""
        rule = self._decide(op, paths)
        if rule is None:
            call()
            return
        if rule.kind is FaultKind.LIE:
            return
        if rule.kind is FaultKind.ERROR_AFTER:
            call()
        raise self._error(rule, op, paths[0])

    # ---- the FileSystem protocol ------------------------------------------------------------
    def open_read(self, path: str) -> FaultRandomAccessFile:
        return FaultRandomAccessFile(
            self, self._run("open_read", (path,), lambda: self.inner.open_read(path))
        )

    def open_write(self, path: str, *, append: bool = False) -> FaultWritableFile:
        return FaultWritableFile(
            self,
            self._run("open_write", (path,), lambda: self.inner.open_write(path, append=append)),
        )

    def read_all(self, path: str) -> bytes:
        return self._run("read_all", (path,), lambda: self.inner.read_all(path))

    def exists(self, path: str) -> bool:
        return self._run("exists", (path,), lambda: self.inner.exists(path))

    def listdir(self, path: str) -> list[str]:
        return self._run("listdir", (path,), lambda: self.inner.listdir(path))

    def makedirs(self, path: str) -> None:
        self._run("makedirs", (path,), lambda: self.inner.makedirs(path))

    def remove(self, path: str) -> None:
        self._run("remove", (path,), lambda: self.inner.remove(path))

    def rmtree(self, path: str) -> None:
        self._run("rmtree", (path,), lambda: self.inner.rmtree(path))

    def rename(self, src: str, dst: str) -> None:
        self._run("rename", (src, dst), lambda: self.inner.rename(src, dst))

    def link(self, src: str, dst: str) -> None:
        self._run("link", (src, dst), lambda: self.inner.link(src, dst))

    def file_size(self, path: str) -> int:
        return self._run("file_size", (path,), lambda: self.inner.file_size(path))

    def sync_dir(self, path: str) -> None:
        self._run_sync("sync_dir", (path,), lambda: self.inner.sync_dir(path))

    def lock(self, path: str) -> FileLock:
        return self._run("lock", (path,), lambda: self.inner.lock(path))
