"""Tests for MemFS: the FileSystem protocol (one battery run over LocalFS too), the
durability model (power cuts keep exactly what was synced), process crashes,
capacity (ENOSPC and freeing space), locks, and the engine running on it."""

from __future__ import annotations

import errno
import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import hedgerow
from hedgerow.client.connection import Connection
from hedgerow.engine import Engine, EngineConfig
from hedgerow.errors import DirectoryLocked
from hedgerow.storage.fs import FileSystem, LocalFS
from hedgerow.storage.memfs import MemFS


# ---- the protocol, over both implementations ----------------------------------------------
@pytest.fixture(params=["local", "mem"])
def fs_root(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[FileSystem, str]]:
    if request.param == "local":
        yield LocalFS(), str(tmp_path)
    else:
        fs = MemFS()
        fs.makedirs("/root")
        yield fs, "/root"


def test_write_read_tell_and_append(fs_root: tuple[FileSystem, str]) -> None:
    fs, d = fs_root
    f = fs.open_write(f"{d}/a")
    f.write(b"hello ")
    f.write(memoryview(b"world"))
    assert f.tell() == 11
    f.sync()
    f.close()
    assert fs.read_all(f"{d}/a") == b"hello world"
    assert fs.file_size(f"{d}/a") == 11
    g = fs.open_write(f"{d}/a", append=True)
    assert g.tell() == 11
    g.write(b"!")
    g.close()
    r = fs.open_read(f"{d}/a")
    assert r.size() == 12
    assert r.pread(5, 6) == b"world"
    assert r.pread(100, 10) == b"d!"  # short only at end of file
    assert r.pread(4, 50) == b""
    r.close()
    h = fs.open_write(f"{d}/a")  # without append: truncated
    assert h.tell() == 0
    h.close()
    assert fs.read_all(f"{d}/a") == b""


def test_truncate_cuts_and_moves_the_position(fs_root: tuple[FileSystem, str]) -> None:
    fs, d = fs_root
    for append in (False, True):
        path = f"{d}/t{append}"
        f = fs.open_write(path, append=append)
        f.write(b"0123456789")
        f.truncate(4)
        assert f.tell() == 4
        f.write(b"ab")  # lands at the cut, not at the old end
        assert f.tell() == 6
        f.truncate(8)  # growing pads with zeros
        assert f.tell() == 8
        f.close()
        assert fs.read_all(path) == b"0123ab\x00\x00"


def test_names_listdir_rename_link_remove_rmtree(fs_root: tuple[FileSystem, str]) -> None:
    fs, d = fs_root
    assert fs.listdir(f"{d}/missing") == []
    fs.makedirs(f"{d}/x/y")
    fs.makedirs(f"{d}/x/y")  # idempotent
    for name in ("b", "a"):
        f = fs.open_write(f"{d}/x/{name}")
        f.write(name.encode())
        f.close()
    assert fs.listdir(f"{d}/x") == ["a", "b", "y"]
    assert fs.exists(f"{d}/x/a") and fs.exists(f"{d}/x/y") and not fs.exists(f"{d}/x/c")
    fs.rename(f"{d}/x/a", f"{d}/x/b")  # replaces b
    assert fs.listdir(f"{d}/x") == ["b", "y"]
    assert fs.read_all(f"{d}/x/b") == b"a"
    fs.link(f"{d}/x/b", f"{d}/x/y/c")
    assert fs.read_all(f"{d}/x/y/c") == b"a"
    fs.remove(f"{d}/x/b")
    fs.remove(f"{d}/x/b")  # a missing file is fine
    assert fs.read_all(f"{d}/x/y/c") == b"a"  # the other name keeps the file
    fs.rmtree(f"{d}/x")
    assert not fs.exists(f"{d}/x") and fs.listdir(d) == []
    fs.rmtree(f"{d}/x")  # missing is fine


def test_errors_are_oserrors_naming_the_path(fs_root: tuple[FileSystem, str]) -> None:
    fs, d = fs_root
    with pytest.raises(FileNotFoundError):
        fs.read_all(f"{d}/nope")
    with pytest.raises(FileNotFoundError):
        fs.open_read(f"{d}/nope")
    with pytest.raises(FileNotFoundError):
        fs.open_write(f"{d}/no/dir")
    with pytest.raises(FileNotFoundError):
        fs.rename(f"{d}/nope", f"{d}/other")
    with pytest.raises(FileNotFoundError):
        fs.file_size(f"{d}/nope")
    fs.open_write(f"{d}/f").close()
    with pytest.raises(FileExistsError):
        fs.link(f"{d}/f", f"{d}/f")


def test_lock_is_exclusive_until_released(fs_root: tuple[FileSystem, str]) -> None:
    fs, d = fs_root
    lk = fs.lock(f"{d}/LOCK")
    if isinstance(fs, MemFS):  # LocalFS's flock is per open file: a second one in-process
        with pytest.raises(DirectoryLocked):  # conflicts too, but only across descriptors
            fs.lock(f"{d}/LOCK")
    lk.release()
    fs.lock(f"{d}/LOCK").release()


# ---- durability: what a power cut keeps ---------------------------------------------------
def _write(fs: MemFS, path: str, data: bytes, *, sync: bool) -> None:
    f = fs.open_write(path, append=True)
    f.write(data)
    if sync:
        f.sync()
    f.close()


def test_power_cut_keeps_exactly_the_synced_bytes() -> None:
    fs = MemFS()
    fs.makedirs("/d")
    f = fs.open_write("/d/log")
    f.write(b"one ")
    f.sync()
    f.write(b"two ")  # written (visible), never synced
    fs.sync_dir("/d")
    assert fs.read_all("/d/log") == b"one two "
    fs.power_cut()
    assert fs.read_all("/d/log") == b"one "
    # the old handle is dead: using it is an I/O error, closing it is harmless
    with pytest.raises(OSError) as e:
        f.write(b"x")
    assert e.value.errno == errno.EIO
    with pytest.raises(OSError):
        f.sync()
    f.close()
    assert fs.power_cuts == 1


def test_power_cut_undoes_names_whose_directory_was_not_synced() -> None:
    fs = MemFS()
    fs.makedirs("/d")
    _write(fs, "/d/old", b"old", sync=True)
    fs.sync_dir("/d")
    _write(fs, "/d/new", b"new", sync=True)  # data synced, name not
    fs.remove("/d/old")  # removal not synced
    fs.power_cut()
    assert fs.listdir("/d") == ["old"]
    assert fs.read_all("/d/old") == b"old"
    # once the directory is synced, both changes stick
    _write(fs, "/d/new", b"new", sync=True)
    fs.remove("/d/old")
    fs.sync_dir("/d")
    fs.power_cut()
    assert fs.listdir("/d") == ["new"]


def test_a_synced_name_with_unsynced_data_comes_back_empty() -> None:
    fs = MemFS()
    fs.makedirs("/d")
    _write(fs, "/d/f", b"data", sync=False)
    fs.sync_dir("/d")
    fs.power_cut()
    assert fs.read_all("/d/f") == b""


def test_truncate_is_durable_only_after_sync() -> None:
    fs = MemFS()
    fs.makedirs("/d")
    f = fs.open_write("/d/f")
    f.write(b"0123456789")
    f.sync()
    fs.sync_dir("/d")
    f.truncate(3)
    fs.power_cut()
    assert fs.read_all("/d/f") == b"0123456789"
    f = fs.open_write("/d/f", append=True)
    f.truncate(3)
    f.sync()
    fs.power_cut()
    assert fs.read_all("/d/f") == b"012"


def test_rename_and_link_are_durable_at_once() -> None:
    fs = MemFS()
    fs.makedirs("/d/sub")
    _write(fs, "/d/CURRENT", b"MANIFEST-1\n", sync=True)
    fs.sync_dir("/d")
    _write(fs, "/d/CURRENT.tmp", b"MANIFEST-2\n", sync=True)
    fs.rename("/d/CURRENT.tmp", "/d/CURRENT")
    fs.link("/d/CURRENT", "/d/sub/copy")
    fs.power_cut()
    assert fs.listdir("/d") == ["CURRENT", "sub"]
    assert fs.read_all("/d/CURRENT") == b"MANIFEST-2\n"
    assert fs.read_all("/d/sub/copy") == b"MANIFEST-2\n"


def test_rmtree_is_undone_unless_the_parent_is_synced() -> None:
    fs = MemFS()
    fs.makedirs("/d/t/r")
    _write(fs, "/d/t/r/f", b"x", sync=True)
    fs.sync_dir("/d/t/r")
    fs.rmtree("/d/t")
    assert not fs.exists("/d/t")
    fs.power_cut()
    assert fs.read_all("/d/t/r/f") == b"x"
    fs.rmtree("/d/t")
    fs.sync_dir("/d")
    fs.power_cut()
    assert not fs.exists("/d/t") and fs.listdir("/d") == []


def test_torn_power_cut_keeps_a_prefix_of_the_unsynced_tail() -> None:
    rng = random.Random(5)
    kept = set()
    for _ in range(40):
        fs = MemFS()
        _write(fs, "/f", b"synced|", sync=True)
        fs.sync_dir("/")
        _write(fs, "/f", b"0123456789", sync=False)
        fs.power_cut(rng)
        data = fs.read_all("/f")
        assert (b"synced|0123456789").startswith(data) and data.startswith(b"synced|")
        kept.add(len(data))
    assert len(kept) > 3  # sometimes nothing, sometimes part, sometimes all


def test_crash_keeps_visible_data_but_kills_handles_and_locks() -> None:
    fs = MemFS()
    fs.makedirs("/d")
    lk = fs.lock("/d/LOCK")
    f = fs.open_write("/d/f")
    f.write(b"abc")
    r = fs.open_read("/d/f")
    fs.crash()
    assert fs.read_all("/d/f") == b"abc"
    with pytest.raises(OSError):
        r.pread(1, 0)
    with pytest.raises(OSError):
        f.write(b"d")
    fs.lock("/d/LOCK")  # the dead process's lock is gone
    lk.release()  # a stale release does not drop the new holder's lock
    with pytest.raises(DirectoryLocked):
        fs.lock("/d/LOCK")
    fs.power_cut()  # still never synced
    assert not fs.exists("/d/f")


# ---- capacity ------------------------------------------------------------------------------
def test_capacity_gives_a_partial_write_then_enospc_and_freeing_makes_room() -> None:
    fs = MemFS(capacity_bytes=100)
    f = fs.open_write("/a")
    f.write(b"x" * 60)
    g = fs.open_write("/b")
    with pytest.raises(OSError) as e:
        g.write(b"y" * 50)
    assert e.value.errno == errno.ENOSPC and e.value.filename == "/b"
    assert g.tell() == 40 and fs.read_all("/b") == b"y" * 40  # what fit was written
    assert fs.used_bytes == 100
    with pytest.raises(OSError):
        g.write(b"z")
    f.truncate(10)  # truncating frees space
    g.write(b"z" * 50)
    assert fs.used_bytes == 100
    fs.remove("/b")  # unlinked but still open: the space is still held
    assert fs.used_bytes == 100
    g.close()  # now it is free
    assert fs.used_bytes == 10
    fs.capacity_bytes = None
    f.write(b"w" * 1000)
    f.close()
    assert fs.used_bytes == 1010


def test_used_bytes_after_power_cut_counts_what_survived() -> None:
    fs = MemFS(capacity_bytes=1000)
    _write(fs, "/a", b"a" * 300, sync=True)
    fs.sync_dir("/")
    _write(fs, "/a", b"a" * 300, sync=False)
    _write(fs, "/b", b"b" * 300, sync=True)
    assert fs.used_bytes == 900
    fs.power_cut()
    assert fs.used_bytes == 300


def test_concurrent_writers_are_safe() -> None:
    fs = MemFS()
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            f = fs.open_write(f"/f{i}")
            for _ in range(500):
                f.write(b"%d," % i)
            f.sync()
            f.close()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    assert fs.used_bytes == sum(len(fs.read_all(f"/f{i}")) for i in range(4)) == 4 * 500 * 2


# ---- the engine on MemFS -------------------------------------------------------------------
def _open(fs: FileSystem, **opts: object) -> Connection:
    engine = Engine("/db", EngineConfig.from_options({"background": False, **opts}), fs=fs)
    return Connection(engine)


def test_engine_runs_on_memfs_through_flush_compaction_and_reopen() -> None:
    fs = MemFS()
    conn = _open(fs, flush_size_bytes=4096, compaction_min_files=2)
    conn.create_table("t", {"cf": {"max_versions": 1}})
    t = conn.table("t")
    for i in range(400):
        t.put(b"row%04d" % i, {b"cf:q": b"v%d" % i})
    conn.flush_table("t")
    conn.compact_table("t", major=True)
    with pytest.raises(DirectoryLocked):
        _open(fs)
    conn.close()
    assert any(name.endswith(".sst") for name in _all_files(fs, "/db"))
    conn = _open(fs)
    t = conn.table("t")
    assert t.row(b"row0123") == {b"cf:q": b"v123"}
    assert len(list(t.scan())) == 400
    conn.close()


@pytest.mark.parametrize(
    "dirsync",
    [pytest.param(False, id="strict"), pytest.param(True, id="dirsync")],
)
def test_engine_power_cut_keeps_fsynced_writes_and_loses_unsynced_ones(dirsync: bool) -> None:
    """FSYNC_WAL writes survive a power cut; SYNC_WAL writes made after the last fsync are
    only in the OS and are lost; nothing else is. (``dirsync``: name changes durable at once,
    so only the data's durability is tested.)"""
    fs = MemFS(dirsync=dirsync)
    conn = _open(fs)
    conn.create_table("t", {"cf": {}})
    t = conn.table("t")
    for i in range(20):
        t.put(b"kept%02d" % i, {b"cf:q": b"v"}, durability=hedgerow.Durability.FSYNC_WAL)
    for i in range(20):
        t.put(b"lost%02d" % i, {b"cf:q": b"v"}, durability=hedgerow.Durability.SYNC_WAL)
    assert len(list(t.scan())) == 40
    fs.power_cut()  # the engine is abandoned, never closed
    conn = _open(fs)
    assert [k for k, _ in conn.table("t").scan()] == [b"kept%02d" % i for i in range(20)]
    conn.close()


def _all_files(fs: MemFS, d: str) -> list[str]:
    out = []
    for name in fs.listdir(d):
        p = f"{d}/{name}"
        sub = fs.listdir(p)
        out += _all_files(fs, p) if sub else [p]
    return out


def test_dirsync_makes_name_changes_durable_at_once_but_not_data() -> None:
    fs = MemFS(dirsync=True)
    fs.makedirs("/d/t")
    _write(fs, "/d/gone", b"g", sync=True)
    _write(fs, "/d/a", b"synced", sync=True)
    _write(fs, "/d/a", b"+unsynced", sync=False)
    _write(fs, "/d/t/x", b"x", sync=True)
    fs.remove("/d/gone")
    fs.rmtree("/d/t")
    fs.power_cut()
    assert fs.listdir("/d") == ["a"]
    assert fs.read_all("/d/a") == b"synced"
