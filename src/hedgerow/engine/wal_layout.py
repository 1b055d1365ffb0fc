"""Where each region server's write-ahead log lives, and the data directory's layout version.

Role: several region servers share one data directory (one root), so each keeps its
WAL files in a directory of its own, ``WALs/<server-id>/`` (HBase's
``<rootdir>/WALs/<host,port,startcode>/``, apache/hbase wal/AbstractFSWALProvider.java). The
server id is stable across restarts (``rs0`` hosts ``hbase:meta``, ``rs1``... are the
other in-process servers), unlike the name clients see, which becomes "host:port"
once a server listens. WAL directories of servers that no longer run are *dead*: the
master replays them into the regions and deletes them at open (``dead_wal_dirs``).
Format: docs/formats/layout.md (authoritative). The file ``LAYOUT`` holds one ASCII
line ``hedgerow-layout <n>\\n``. Version 1 (no ``LAYOUT`` file) kept one log in
``wal/``; version 2 (this build) keeps ``WALs/<server-id>/``. ``check_layout`` reads
it, upgrades a version-1 directory (every file of ``wal/`` is renamed into
``WALs/rs0/``, then ``LAYOUT`` is written) and refuses a newer version with
``FormatVersionError``, changing nothing.
Invariants: ``LAYOUT`` is written last and atomically (tmp file, fsync, rename), so a
crash during the upgrade leaves a version-1 directory whose upgrade resumes; a file is
never in both ``wal/`` and ``WALs/rs0/``.
Concurrency: called once at open, under the directory lock.
"""

from __future__ import annotations

import os
import re

from hedgerow.errors import CorruptionError, FormatVersionError
from hedgerow.storage.fs import FileSystem

__all__ = [
    "LAYOUT_FILE",
    "LAYOUT_VERSION",
    "PRIMARY_ID",
    "check_layout",
    "dead_wal_dirs",
    "server_id",
    "wal_dir",
]

LAYOUT_FILE = "LAYOUT"
#: 2: one WAL directory per region server under WALs/ (1: a single wal/ directory)
LAYOUT_VERSION = 2
#: the id of the region server that hosts hbase:meta
PRIMARY_ID = "rs0"
_LINE = re.compile(rb"hedgerow-layout (\d{1,9})\n\Z")
_WALS = "WALs"
_OLD_WAL = "wal"


def server_id(index: int) -> str:
    """The stable id of the ``index``-th in-process region server (``rs0`` first)."""
    return f"rs{index}"


def wal_dir(root: str, sid: str) -> str:
    """The WAL directory of region server ``sid`` under ``root``."""
    return os.path.join(root, _WALS, sid)


def dead_wal_dirs(fs: FileSystem, root: str, live: set[str]) -> list[str]:
    """WAL directories of servers not in ``live`` (left by a run with more servers)."""
    base = os.path.join(root, _WALS)
    if not fs.exists(base):
        return []
    return [os.path.join(base, d) for d in sorted(fs.listdir(base)) if d not in live]


def read_layout(fs: FileSystem, root: str) -> int:
    """The directory's layout version (1 when there is no LAYOUT file)."""
    path = os.path.join(root, LAYOUT_FILE)
    if not fs.exists(path):
        return 1
    data = fs.read_all(path)
    m = _LINE.match(data)
    if m is None:
        raise CorruptionError(
            f"unreadable layout file (expected 'hedgerow-layout N'): {data!r}", path, 0
        )
    return int(m.group(1))


def check_layout(fs: FileSystem, root: str) -> None:
    """Refuse a newer layout, upgrade an older one, write LAYOUT for a new directory."""
    version = read_layout(fs, root)
    if version == LAYOUT_VERSION:
        return
    if version > LAYOUT_VERSION:
        raise FormatVersionError(
            f"data directory layout version {version} is not supported (this build reads "
            f"versions 1 and {LAYOUT_VERSION})",
            os.path.join(root, LAYOUT_FILE),
            0,
        )
    old = os.path.join(root, _OLD_WAL)
    new = wal_dir(root, PRIMARY_ID)
    fs.makedirs(new)
    if fs.exists(old):
        for name in sorted(fs.listdir(old)):
            fs.rename(os.path.join(old, name), os.path.join(new, name))
        fs.sync_dir(new)
        fs.rmtree(old)
    path = os.path.join(root, LAYOUT_FILE)
    tmp = path + ".tmp"
    f = fs.open_write(tmp)
    try:
        f.write(b"hedgerow-layout %d\n" % LAYOUT_VERSION)
        f.sync()
    finally:
        f.close()
    fs.rename(tmp, path)
