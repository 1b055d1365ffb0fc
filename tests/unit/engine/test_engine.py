"""Engine-level behaviour: directory locking, concurrency, region routing, durability, block cache.

Everything goes through ``hedgerow.connect``; the engine object is
``conn.backend``. Crash tests run a child Python process and kill it with
SIGKILL after it reported its writes as acknowledged.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import hedgerow
from hedgerow import Durability
from hedgerow.model.read_spec import ReadSpec, ScanRange

needs_sigkill = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


# ---- directory lock -----------------------------------------------------------------------------

_OPEN_CHILD = textwrap.dedent(
    """
    import sys, hedgerow
    try:
        hedgerow.connect(sys.argv[1]).close()
    except hedgerow.DirectoryLocked as e:
        print("LOCKED", e)
        sys.exit(3)
    print("OPENED")
    """
)


def _open_in_child(path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _OPEN_CHILD, path],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_second_process_gets_directory_locked(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with hedgerow.connect(path) as c:
        c.create_table("t", {"cf": {}})
        res = _open_in_child(path)
        assert res.returncode == 3, res.stdout + res.stderr
        assert res.stdout.startswith("LOCKED")
        assert path in res.stdout  # the message names the directory
        # the refused open did not disturb the holder
        c.table("t").put(b"r", {b"cf:a": b"1"})
        assert c.table("t").row(b"r") == {b"cf:a": b"1"}
    # once closed, another process may open it
    res = _open_in_child(path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip() == "OPENED"


def test_same_process_second_open_while_open_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with hedgerow.connect(path) as c:
        c.create_table("t", {"cf": {}})
        with pytest.raises(hedgerow.DirectoryLocked, match="LOCK"):
            hedgerow.connect(path)
        c.table("t").put(b"r", {b"cf:a": b"1"})
    with hedgerow.connect(path) as c:
        assert c.table("t").row(b"r") == {b"cf:a": b"1"}


def test_same_process_reopens_after_close(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    for i in range(3):
        with hedgerow.connect(path) as c:
            if i == 0:
                c.create_table("t", {"cf": {}})
            c.table("t").put(b"r%d" % i, {b"cf:a": b"%d" % i})
            assert len(list(c.table("t").scan())) == i + 1


# ---- concurrency --------------------------------------------------------------------------------

WRITERS = 8
ROWS_PER_WRITER = 500
HOT_ROWS = 20


def _token(data: dict[bytes, bytes]) -> bytes:
    return data[b"cf1:a"]


def _check_whole(row: bytes, data: dict[bytes, bytes]) -> str | None:
    if set(data) != {b"cf1:a", b"cf2:b", b"cf3:c"}:
        return f"row {row!r} has columns {sorted(data)}"
    tok = data[b"cf1:a"]
    if data[b"cf2:b"].rstrip(b"x") != tok or data[b"cf3:c"] != tok:
        return f"row {row!r} is torn: {data!r}"
    return None


def test_concurrent_writers_and_scanners_see_whole_rows(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    conn = hedgerow.connect(path, flush_size_bytes=64 * 1024, background=True)
    conn.create_table(
        "t",
        {"cf1": {}, "cf2": {"compression": "zstd"}, "cf3": {"max_versions": 2}},
        split_keys=[b"row3", b"row6"],
    )
    t = conn.table("t")
    errors: list[str] = []
    done = threading.Event()
    increments = [0] * WRITERS
    final: dict[bytes, bytes] = {}
    final_lock = threading.Lock()
    scans = [0, 0]

    def writer(w: int) -> None:
        rng = random.Random(w)
        try:
            for i in range(ROWS_PER_WRITER):
                tok = b"%d-%d" % (w, i)
                row = b"row%d-%04d" % (w, i)
                t.put(
                    row, {b"cf1:a": tok, b"cf2:b": tok + b"x" * rng.randrange(300), b"cf3:c": tok}
                )
                with final_lock:
                    final[row] = tok
                if i % 5 == 0:  # rows every writer overwrites
                    hot = b"hot%02d" % rng.randrange(HOT_ROWS)
                    with t.batch() as b:
                        b.put(hot, {b"cf1:a": tok, b"cf2:b": tok + b"xx", b"cf3:c": tok})
                if i % 10 == 0:
                    t.increment(b"counter", {b"cf1:n": 1, b"cf2:n": 2})
                    increments[w] += 1
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(f"writer {w}: {e!r}")

    def scanner(s: int) -> None:
        try:
            while not done.is_set():
                reverse = s == 1
                prev: bytes | None = None
                for row, data in t.scan(reverse=reverse):
                    if prev is not None and (row < prev if reverse else row > prev) is False:
                        errors.append(f"scanner {s}: {row!r} after {prev!r}")
                        return
                    prev = row
                    if row == b"counter":
                        continue
                    problem = _check_whole(row, data)  # type: ignore[arg-type]
                    if problem:
                        errors.append(f"scanner {s}: {problem}")
                        return
                scans[s] += 1
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(f"scanner {s}: {e!r}")

    writers = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    scanners = [threading.Thread(target=scanner, args=(s,)) for s in range(2)]
    for th in writers + scanners:
        th.start()
    for th in writers:
        th.join(timeout=120)
    done.set()
    for th in scanners:
        th.join(timeout=120)
    assert not errors, errors[:5]
    assert all(s >= 1 for s in scans), scans

    def verify(c: hedgerow.Connection) -> None:
        tt = c.table("t")
        rows = {k: v for k, v in tt.scan() if k != b"counter"}
        own = {k: v for k, v in rows.items() if k.startswith(b"row")}
        assert len(own) == WRITERS * ROWS_PER_WRITER
        assert {k: _token(v) for k, v in own.items()} == final  # type: ignore[arg-type]
        for k, v in rows.items():
            assert _check_whole(k, v) is None  # type: ignore[arg-type]
        assert 1 <= sum(k.startswith(b"hot") for k in rows) <= HOT_ROWS
        n = sum(increments)
        assert n == WRITERS * (ROWS_PER_WRITER // 10)
        assert tt.counter_get(b"counter", b"cf1:n") == n
        assert tt.counter_get(b"counter", b"cf2:n") == 2 * n

    verify(conn)
    engine = conn.backend
    store_files = [
        f for _, _, files in os.walk(os.path.join(path, "tables")) for f in files if ".sst" in f
    ]
    assert store_files, "flush_size_bytes=64 KiB should have produced store files"
    assert engine.stats()["regions"] == 3  # type: ignore[attr-defined]
    conn.close()
    with hedgerow.connect(path) as c2:
        verify(c2)


def test_concurrent_check_and_mutate_is_atomic(tmp_path: Path) -> None:
    """Compare-and-set loops from several threads: no lost update, no double apply."""
    with hedgerow.connect(str(tmp_path / "db"), flush_size_bytes=16 * 1024) as c:
        c.create_table("t", {"cf": {}})
        t = c.table("t")
        t.put(b"r", {b"cf:v": b"%08d" % 0})
        errors: list[BaseException] = []

        def bump(n: int) -> None:
            try:
                for _ in range(n):
                    while True:
                        cur = t.row(b"r")[b"cf:v"]
                        new = b"%08d" % (int(cur) + 1)
                        if t.check_and_mutate(b"r", b"cf:v", cur, "=", put={b"cf:v": new}):
                            break
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=bump, args=(50,)) for _ in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=60)
        assert not errors
        assert t.row(b"r") == {b"cf:v": b"%08d" % 200}


# ---- regions ------------------------------------------------------------------------------------

SPLITS = [b"g", b"p"]
LETTERS = [bytes([c]) for c in range(ord("a"), ord("z") + 1)]


@pytest.fixture
def split_conn(tmp_path: Path) -> Iterator[hedgerow.Connection]:
    c = hedgerow.connect(str(tmp_path / "db"), background=False)
    c.create_table("s", {"cf": {}, "cf2": {}}, split_keys=SPLITS)
    t = c.table("s")
    for k in LETTERS:
        t.put(k, {b"cf:a": k, b"cf2:b": k.upper()})
    yield c
    c.close()


def test_pre_split_routes_rows_to_their_regions(split_conn: hedgerow.Connection) -> None:
    engine = split_conn.backend
    regions = engine.region_server.online("s").regions  # type: ignore[union-attr]
    assert [(r.info.start_key, r.info.end_key) for r in regions] == [
        (b"", b"g"),
        (b"g", b"p"),
        (b"p", b""),
    ]
    per_region = [[row for row, _ in r.scan(ScanRange(), ReadSpec())] for r in regions]
    assert per_region == [LETTERS[:6], LETTERS[6:15], LETTERS[15:]]
    # a row equal to a split key belongs to the region that starts there
    assert per_region[1][0] == b"g" and per_region[2][0] == b"p"


def test_scans_cross_region_boundaries(split_conn: hedgerow.Connection) -> None:
    t = split_conn.table("s")
    assert [k for k, _ in t.scan()] == LETTERS
    assert [k for k, _ in t.scan(reverse=True)] == LETTERS[::-1]
    assert [k for k, _ in t.scan(row_start=b"e", row_stop=b"r")] == LETTERS[4:17]
    assert [k for k, _ in t.scan(row_start=b"g", row_stop=b"p")] == LETTERS[6:15]
    assert [k for k, _ in t.scan(row_start=b"f", row_stop=b"g")] == [b"f"]
    assert [k for k, _ in t.scan(reverse=True, row_start=b"r", row_stop=b"e")] == LETTERS[5:18][
        ::-1
    ]
    assert [k for k, _ in t.scan(reverse=True, row_start=b"p", row_stop=b"g")] == LETTERS[7:16][
        ::-1
    ]
    assert [k for k, _ in t.scan(reverse=True, row_start=b"oz")] == LETTERS[:15][::-1]
    assert [k for k, _ in t.scan(limit=8, row_start=b"c")] == LETTERS[2:10]
    assert [k for k, _ in t.scan(reverse=True, limit=12)] == LETTERS[::-1][:12]
    assert list(t.scan(row_start=b"h", limit=1)) == [(b"h", {b"cf:a": b"h", b"cf2:b": b"H"})]


def test_scans_cross_region_boundaries_after_flush(split_conn: hedgerow.Connection) -> None:
    split_conn.flush_table("s")
    t = split_conn.table("s")
    t.delete(b"g")
    t.delete(b"p")
    expected = [k for k in LETTERS if k not in (b"g", b"p")]
    assert [k for k, _ in t.scan()] == expected
    assert [k for k, _ in t.scan(reverse=True)] == expected[::-1]
    assert [k for k, _ in t.scan(row_start=b"f", row_stop=b"q")] == [b"f", *LETTERS[7:15]]
    assert [k for k, _ in t.scan(reverse=True, row_start=b"q", row_stop=b"f")] == [
        b"q",
        *LETTERS[7:15][::-1],
    ]


def test_split_table_survives_reopen(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with hedgerow.connect(path, background=False) as c:
        c.create_table("s", {"cf": {}}, split_keys=[b"p", b"g"])
        t = c.table("s")
        for k in LETTERS:
            t.put(k, {b"cf:a": k})
        before = t.regions()
    with hedgerow.connect(path, background=False) as c:
        t = c.table("s")
        assert t.regions() == before
        assert [(r["start_key"], r["end_key"]) for r in before] == [
            (b"", b"g"),
            (b"g", b"p"),
            (b"p", b""),
        ]
        assert [k for k, _ in t.scan()] == LETTERS
        assert [k for k, _ in t.scan(reverse=True)] == LETTERS[::-1]
        assert t.row(b"p") == {b"cf:a": b"p"}


# ---- durability ---------------------------------------------------------------------------------

_DURABILITY_CHILD = textwrap.dedent(
    """
    import sys, hedgerow
    from hedgerow import Durability
    conn = hedgerow.connect(sys.argv[1], flush_size_bytes=1 << 30, background=False)
    conn.create_table("t", {"cf": {}})
    t = conn.table("t")
    for i in range(50):
        t.put(b"skip%02d" % i, {b"cf:a": b"s"}, durability=Durability.SKIP_WAL)
        t.put(b"nowal%02d" % i, {b"cf:a": b"n"}, wal=False)
        t.put(b"sync%02d" % i, {b"cf:a": b"y"}, durability=Durability.SYNC_WAL)
        t.put(b"fsync%02d" % i, {b"cf:a": b"f"}, durability=Durability.FSYNC_WAL)
        with t.batch(durability=Durability.SYNC_WAL) as b:
            b.put(b"batch%02d" % i, {b"cf:a": b"b"})
    t.increment(b"counter", {b"cf:n": 7}, durability=Durability.FSYNC_WAL)
    t.delete(b"sync00", durability=Durability.SYNC_WAL)
    print("acked", flush=True)
    sys.stdin.read()  # wait to be killed
    """
)


@needs_sigkill
def test_skip_wal_lost_on_crash_sync_and_fsync_survive(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    proc = subprocess.Popen(
        [sys.executable, "-c", _DURABILITY_CHILD, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == b"acked\n", line + proc.stderr.read()  # type: ignore[union-attr]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for f in (proc.stdin, proc.stdout, proc.stderr):
            if f is not None:
                f.close()
    assert proc.returncode == -signal.SIGKILL
    with hedgerow.connect(path) as c:
        t = c.table("t")
        rows = dict(t.scan())
        by_kind: dict[bytes, int] = {}
        for k in rows:
            kind = k.rstrip(b"0123456789")
            by_kind[kind] = by_kind.get(kind, 0) + 1
        # SKIP_WAL (and wal=False) writes lived only in the memstore: gone
        assert by_kind.get(b"skip", 0) == 0
        assert by_kind.get(b"nowal", 0) == 0
        assert by_kind[b"sync"] == 49  # sync00 was deleted, durably
        assert by_kind[b"fsync"] == 50
        assert by_kind[b"batch"] == 50
        assert t.counter_get(b"counter", b"cf:n") == 7
        assert t.row(b"sync00") == {}


def test_async_wal_present_after_clean_close(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with hedgerow.connect(path) as c:
        c.create_table("t", {"cf": {}})
        t = c.table("t")
        for i in range(100):
            t.put(b"r%03d" % i, {b"cf:a": b"%d" % i}, durability=Durability.ASYNC_WAL)
        t.delete(b"r050", durability=Durability.ASYNC_WAL)
    with hedgerow.connect(path) as c:
        rows = dict(c.table("t").scan())
        assert len(rows) == 99
        assert rows[b"r099"] == {b"cf:a": b"99"}
        assert b"r050" not in rows


def test_fsync_wal_round_trip(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    with hedgerow.connect(path) as c:
        c.create_table("t", {"cf": {}})
        t = c.table("t")
        t.put(b"r", {b"cf:a": b"1"}, durability=Durability.FSYNC_WAL)
        t.delete_cell(b"r", b"cf:a", durability=Durability.FSYNC_WAL)
        t.put(b"r", {b"cf:b": b"2"}, durability=Durability.FSYNC_WAL)
        assert t.row(b"r") == {b"cf:b": b"2"}
    with hedgerow.connect(path) as c:
        assert c.table("t").row(b"r") == {b"cf:b": b"2"}


# ---- block cache --------------------------------------------------------------------------------


def test_block_cache_counters_increase_on_reads(tmp_path: Path) -> None:
    with hedgerow.connect(str(tmp_path / "db"), background=False) as c:
        c.create_table("t", {"cf": {}, "nocache": {"block_cache_enabled": False}})
        t = c.table("t")
        for i in range(200):
            t.put(b"r%03d" % i, {b"cf:a": b"v" * 100})
        c.flush_table("t")
        cache = c.backend.cache  # type: ignore[attr-defined]
        h0, m0 = cache.hits, cache.misses
        assert t.row(b"r100") == {b"cf:a": b"v" * 100}
        h1, m1 = cache.hits, cache.misses
        assert h1 + m1 > h0 + m0  # the store file's data block was looked up
        assert cache.used_bytes > 0
        assert t.row(b"r100") == {b"cf:a": b"v" * 100}
        h2, m2 = cache.hits, cache.misses
        assert h2 > h1  # the second read of the same block is a hit
        assert m2 == m1
        assert len(list(t.scan())) == 200
        assert cache.hits + cache.misses > h2 + m2
        stats = c.backend.stats()["block_cache"]  # type: ignore[attr-defined]
        assert stats["hits"] == cache.hits and stats["misses"] == cache.misses
