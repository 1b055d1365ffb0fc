"""Tests for FaultFS: rule matching (operation, path glob, skip, limit, probability),
each fault kind (error, error after the call, short write, failing and lying fsync),
counters and history, rules changed while in use, and the engine running through it."""

from __future__ import annotations

import errno
import random
import threading

import pytest

from hedgerow.client.connection import Connection
from hedgerow.engine import Engine, EngineConfig
from hedgerow.storage.faultfs import FAULT_OPS, FaultFS, FaultKind
from hedgerow.storage.memfs import MemFS


def make(seed: int = 1) -> tuple[FaultFS, MemFS]:
    mem = MemFS()
    mem.makedirs("/d")
    return FaultFS(mem, random.Random(seed)), mem


def test_no_rules_pass_everything_through() -> None:
    fs, mem = make()
    f = fs.open_write("/d/a")
    f.write(b"abc")
    f.sync()
    assert f.tell() == 3
    f.truncate(2)
    f.close()
    fs.rename("/d/a", "/d/b")
    fs.link("/d/b", "/d/c")
    assert fs.listdir("/d") == ["b", "c"] and fs.exists("/d/b")
    r = fs.open_read("/d/c")
    assert r.pread(10, 0) == b"ab" and r.size() == 2
    r.close()
    assert fs.read_all("/d/b") == b"ab" and fs.file_size("/d/b") == 2
    fs.sync_dir("/d")
    fs.remove("/d/c")
    fs.makedirs("/d/e")
    fs.rmtree("/d/e")
    fs.lock("/d/LOCK").release()
    assert fs.injected == 0 and mem.read_all("/d/b") == b"ab"


def test_error_rule_by_op_and_path_raises_without_effect() -> None:
    fs, mem = make()
    rule = fs.add_rule("write", path="*.log", errno=errno.ENOSPC, name="wal full")
    f = fs.open_write("/d/000001.log")
    with pytest.raises(OSError) as e:
        f.write(b"data")
    assert e.value.errno == errno.ENOSPC and e.value.filename == "/d/000001.log"
    assert "wal full" in str(e.value)
    assert mem.read_all("/d/000001.log") == b""
    g = fs.open_write("/d/000001.sst")  # another path: untouched
    g.write(b"data")
    assert rule.injected == 1 and rule.matched == 1
    assert fs.injected == 1 and fs.injected_by_op == {"write": 1}
    assert fs.history[-1].op == "write" and fs.history[-1].path == "/d/000001.log"


def test_fail_next_n_then_passes_and_skip_lets_calls_through_first() -> None:
    fs, _ = make()
    fs.fail_next("sync", n=2)
    f = fs.open_write("/d/a")
    for _ in range(2):
        with pytest.raises(OSError):
            f.sync()
    f.sync()
    fs.add_rule("rename", skip=2, limit=1)
    for i in range(4):
        fs.open_write(f"/d/s{i}").close()
    fs.rename("/d/s0", "/d/t0")
    fs.rename("/d/s1", "/d/t1")
    with pytest.raises(OSError):
        fs.rename("/d/s2", "/d/t2")  # the third matching call
    fs.rename("/d/s3", "/d/t3")
    assert fs.injected == 3


def test_rename_and_link_match_either_path() -> None:
    fs, _ = make()
    fs.add_rule(["rename", "link"], path="*/CURRENT")
    fs.open_write("/d/CURRENT.tmp").close()
    with pytest.raises(OSError):
        fs.rename("/d/CURRENT.tmp", "/d/CURRENT")
    fs.open_write("/d/CURRENT").close()
    with pytest.raises(OSError):
        fs.link("/d/CURRENT", "/d/other")


def test_error_after_takes_effect_then_raises() -> None:
    fs, mem = make()
    fs.fail_next("write", kind=FaultKind.ERROR_AFTER)
    f = fs.open_write("/d/a")
    with pytest.raises(OSError):
        f.write(b"abc")
    assert mem.read_all("/d/a") == b"abc"


def test_short_write_writes_a_strict_prefix_then_raises() -> None:
    fs, mem = make(seed=3)
    fs.add_rule("write", kind=FaultKind.SHORT_WRITE, errno=errno.ENOSPC)
    lengths = set()
    for i in range(30):
        f = fs.open_write(f"/d/f{i}")
        with pytest.raises(OSError) as e:
            f.write(b"0123456789")
        assert e.value.errno == errno.ENOSPC
        data = mem.read_all(f"/d/f{i}")
        assert b"0123456789".startswith(data) and len(data) < 10
        assert f.tell() == len(data)
        lengths.add(len(data))
    assert len(lengths) > 3


def test_failing_fsync_does_not_make_data_durable() -> None:
    fs, mem = make()
    f = fs.open_write("/d/a")
    fs.sync_dir("/d")
    f.write(b"abc")
    fs.fail_next("sync")
    with pytest.raises(OSError):
        f.sync()
    mem.power_cut()
    assert mem.read_all("/d/a") == b""


def test_lying_fsync_reports_success_and_a_power_cut_shows_the_lie() -> None:
    fs, mem = make()
    rule = fs.add_rule(["sync", "sync_dir"], kind=FaultKind.LIE)
    f = fs.open_write("/d/a")
    f.write(b"abc")
    f.sync()  # "succeeds"
    fs.sync_dir("/d")  # "succeeds"
    assert rule.injected == 2
    mem.power_cut()
    assert not mem.exists("/d/a")
    fs.remove_rule(rule)
    f = fs.open_write("/d/a")
    f.write(b"abc")
    f.sync()
    fs.sync_dir("/d")
    mem.power_cut()
    assert mem.read_all("/d/a") == b"abc"


def test_probability_is_drawn_from_the_seeded_rng() -> None:
    def pattern(seed: int) -> list[bool]:
        fs, _ = make(seed)
        fs.add_rule("write", probability=0.3)
        f = fs.open_write("/d/a")
        out = []
        for _ in range(200):
            try:
                f.write(b"x")
                out.append(False)
            except OSError:
                out.append(True)
        return out

    a = pattern(7)
    assert a == pattern(7)
    assert a != pattern(8)
    assert 30 < sum(a) < 90


def test_paused_and_enabled_switch_rules_off() -> None:
    fs, _ = make()
    fs.add_rule("open_write")
    with fs.paused():
        fs.open_write("/d/a").close()
    fs.enabled = False
    fs.open_write("/d/b").close()
    fs.enabled = True
    with pytest.raises(OSError):
        fs.open_write("/d/c")
    fs.clear_rules()
    fs.open_write("/d/c").close()
    assert fs.rules == []


def test_every_operation_can_fail() -> None:
    fs, mem = make()
    mem.open_write("/d/f").close()
    f = fs.open_write("/d/w")
    r = fs.open_read("/d/f")
    calls = {
        "open_read": lambda: fs.open_read("/d/f"),
        "open_write": lambda: fs.open_write("/d/x"),
        "read_all": lambda: fs.read_all("/d/f"),
        "exists": lambda: fs.exists("/d/f"),
        "listdir": lambda: fs.listdir("/d"),
        "makedirs": lambda: fs.makedirs("/d/m"),
        "remove": lambda: fs.remove("/d/f"),
        "rmtree": lambda: fs.rmtree("/d/m"),
        "rename": lambda: fs.rename("/d/f", "/d/g"),
        "link": lambda: fs.link("/d/f", "/d/g"),
        "file_size": lambda: fs.file_size("/d/f"),
        "sync_dir": lambda: fs.sync_dir("/d"),
        "lock": lambda: fs.lock("/d/LOCK"),
        "write": lambda: f.write(b"x"),
        "sync": f.sync,
        "truncate": lambda: f.truncate(0),
        "pread": lambda: r.pread(1, 0),
        "size": r.size,
        "close": f.close,
    }
    assert set(calls) == FAULT_OPS
    for op, call in calls.items():
        rule = fs.fail_next(op, errno=errno.EROFS)
        with pytest.raises(OSError) as e:
            call()
        assert e.value.errno == errno.EROFS, op
        fs.remove_rule(rule)
    assert fs.injected == len(FAULT_OPS)
    assert mem.exists("/d/f") and not mem.exists("/d/m")


def test_bad_rules_are_refused_with_the_reason() -> None:
    fs, _ = make()
    with pytest.raises(ValueError, match="unknown FaultFS operation"):
        fs.add_rule("fsync")
    with pytest.raises(ValueError, match="SHORT_WRITE"):
        fs.add_rule("sync", kind=FaultKind.SHORT_WRITE)
    with pytest.raises(ValueError, match="LIE"):
        fs.add_rule("write", kind=FaultKind.LIE)
    with pytest.raises(ValueError, match="probability"):
        fs.add_rule("write", probability=1.5)
    assert fs.rules == []


def test_rules_change_while_other_threads_use_the_filesystem() -> None:
    fs, _ = make()
    stop = threading.Event()
    failures = [0]

    def writer() -> None:
        f = fs.open_write("/d/busy")
        while not stop.is_set():
            try:
                f.write(b"x")
            except OSError:
                failures[0] += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(200):
            rule = fs.add_rule("write", probability=0.5)
            fs.remove_rule(rule)
    finally:
        stop.set()
        t.join(timeout=30)
    assert fs.injected == failures[0]


def test_engine_write_fails_with_an_error_when_the_wal_cannot_be_written() -> None:
    """Smoke test of the wiring: a fault in the WAL reaches the caller as an exception.
    (What the engine must do about it is tests/engine/test_model_faults.py's subject.)"""
    fs, _ = make()
    engine = Engine("/db", EngineConfig.from_options({"background": False}), fs=fs)
    conn = Connection(engine)
    conn.create_table("t", {"cf": {}})
    t = conn.table("t")
    t.put(b"a", {b"cf:q": b"1"})
    fs.fail_next("write", path="/db/WALs/rs0/*")
    with pytest.raises(Exception):  # noqa: B017 - which class is the engine's business
        t.put(b"b", {b"cf:q": b"2"})
    assert fs.injected == 1
