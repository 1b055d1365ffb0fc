"""Disk full on a real filesystem: ``hedgerow standalone`` on a 24 MiB tmpfs (issue 11, acceptance 3).

The test mounts a tmpfs of its own (``mount -t tmpfs -o size=24m``; skipped with
the reason when mounting is not permitted), fills 4 MiB of it with a ballast file,
and starts ``hedgerow standalone`` on a data directory there (small flush and WAL
roll sizes, so flushes, compactions and rolls all meet the full disk). Then:

1. three writers put incompressible 2 KB rows at SYNC_WAL until the disk is full:
   every write either returns (acknowledged) or fails promptly with the disk-full
   error class (``StorageFull`` once the engine has it; a StorageError until then),
   never a timeout or an internal error;
2. while the disk is full, gets and a scan of acknowledged rows still work;
3. the ballast is deleted: writes must succeed again within ``RESUME_S`` without a
   restart, and 200 more writes must all succeed;
4. the server is stopped (SIGTERM: a clean close) and the directory opened again:
   every acknowledged row is there with its value, and no row whose write failed.

The second test kills the server (SIGKILL) once the disk is full and restarts it on
the still-full disk: it must start and serve reads; then the same steps 3 and 4.
Breaches of steps 1, 3 and 4 are collected and reported together.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import hedgerow
from hedgerow import errors
from hedgerow.errors import HedgerowError

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

FS_MIB = 24
BALLAST_MIB = 10
VALUE_BYTES = 2000
WRITERS = 3
FILL_S = 90  # the disk must be full within this
RESUME_S = 30  # writes must work again within this after space is freed
CLIENT_TIMEOUT_S = 15
# The error class a write refused for lack of space must have: StorageFull once the
# engine defines it (issue 11), until then at least a StorageError.
FULL_ERROR: type[HedgerowError] = getattr(errors, "StorageFull", errors.StorageError)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs mounted for this test (unmounted after it)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if sys.platform != "linux":
        pytest.skip("mounts a tmpfs: Linux only")
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={FS_MIB}m", "tmpfs", str(mnt)],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.skip(f"cannot run mount: {e}")
    if done.returncode != 0:
        pytest.skip(
            f"mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN): "
            f"{done.stderr.decode(errors='replace').strip()}"
        )
    try:
        yield mnt
    finally:
        for args in (["umount", str(mnt)], ["umount", "-l", str(mnt)]):
            if subprocess.run(args, capture_output=True, timeout=30).returncode == 0:
                break


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    start = log.stat().st_size if log.exists() else 0  # the log may hold an earlier run
    out = open(log, "ab")  # noqa: SIM115 - the server process owns it
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hedgerow.cli.main",
            "standalone",
            "--data",
            str(data),
            "--port",
            str(port),
            "--thrift-port",
            "-1",
            "--set",
            "flush_size_bytes=262144",
            "--set",
            "wal_roll_bytes=1048576",
            "--set",
            "compaction_min_files=3",
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    out.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if b"ready" in log.read_bytes()[start:].splitlines():
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=30)
    raise AssertionError(f"server did not start: {log.read_bytes()[-3000:]!r}")


def _stop(proc: subprocess.Popen[bytes], sig: int) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
    return proc.wait(timeout=60)


class Writes:
    """What the writers saw, per row: acknowledged values and failures; and the contract
    breaches found so far (reported together at the end, so one run shows them all)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acked: dict[bytes, bytes] = {}
        self.failed: dict[bytes, BaseException] = {}
        self.slow: list[str] = []  # failures that took longer than the client timeout allows
        self.problems: list[str] = []

    def put(self, t: hedgerow.Table, row: bytes, value: bytes) -> bool:
        started = time.monotonic()
        try:
            t.put(row, {b"cf:v": value}, durability=hedgerow.Durability.SYNC_WAL)
        except HedgerowError as e:
            with self.lock:
                self.failed[row] = e
                if time.monotonic() - started > CLIENT_TIMEOUT_S / 2:
                    self.slow.append(
                        f"{row!r}: {type(e).__name__} after {time.monotonic() - started:.1f} s"
                    )
            return False
        with self.lock:
            self.acked[row] = value
        return True


def _ballast(mnt: Path) -> Path:
    path = mnt / "ballast"
    with open(path, "wb") as f:
        f.write(random.Random(0).randbytes(BALLAST_MIB << 20))
        f.flush()
        os.fsync(f.fileno())
    return path


def _fill(url: str, writes: Writes) -> None:
    """Writers put rows until each has failed 10 times in a row; failures must be prompt
    and of the disk-full class."""
    stop = threading.Event()
    full = [0] * WRITERS  # consecutive failures per writer

    def writer(k: int) -> None:
        rng = random.Random(k)
        with hedgerow.connect(url, timeout_s=CLIENT_TIMEOUT_S) as c:
            t = c.table("t")
            for i in range(1_000_000):
                if stop.is_set():
                    return
                ok = writes.put(t, b"w%d-%07d" % (k, i), rng.randbytes(VALUE_BYTES))
                full[k] = 0 if ok else full[k] + 1

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
    for th in threads:
        th.start()
    deadline = time.monotonic() + FILL_S
    while time.monotonic() < deadline and min(full) < 10:
        time.sleep(0.1)
    stop.set()
    for th in threads:
        th.join(timeout=CLIENT_TIMEOUT_S * 2)
    assert not any(th.is_alive() for th in threads), "a writer is stuck in a call"
    assert min(full) >= 10, (
        f"the disk did not fill in {FILL_S} s: {len(writes.acked)} writes acknowledged, "
        f"{len(writes.failed)} failed"
    )
    assert len(writes.acked) > 1000  # sanity: the disk held real data
    if writes.slow:
        writes.problems.append(f"writes that hung instead of failing: {writes.slow[:5]}")
    wrong_class = {
        f"{type(e).__name__}: {e}" for e in writes.failed.values() if not isinstance(e, FULL_ERROR)
    }
    if wrong_class:
        writes.problems.append(
            f"{len(wrong_class)} kinds of write failure on a full disk are not "
            f"{FULL_ERROR.__name__}: {sorted(wrong_class)[:5]}"
        )


def _check_reads(t: hedgerow.Table, acked: dict[bytes, bytes]) -> None:
    """Gets of 50 acknowledged rows and a scan of 100 return what was written."""
    for row in random.Random(1).sample(sorted(acked), 50):
        assert t.row(row) == {b"cf:v": acked[row]}, row
    first = sorted(acked)[:100]
    got = [(r, d[b"cf:v"]) for r, d in t.scan(row_start=first[0], limit=100)]
    assert got == [(r, acked[r]) for r in first]


def _free_and_resume(t: hedgerow.Table, ballast: Path, writes: Writes) -> None:
    """Delete the ballast; a write must succeed within RESUME_S, then 200 more in a row."""
    os.remove(ballast)
    started = time.monotonic()
    rng = random.Random(99)
    for n in range(1_000_000):
        if writes.put(t, b"r-%07d" % n, rng.randbytes(VALUE_BYTES)):
            break
        if time.monotonic() - started > RESUME_S:
            last = writes.failed[b"r-%07d" % n]
            writes.problems.append(
                f"writes still fail {RESUME_S} s after {BALLAST_MIB} MiB were freed: "
                f"{type(last).__name__}: {last}"
            )
            return
        time.sleep(0.2)
    more = [writes.put(t, b"s-%07d" % i, rng.randbytes(VALUE_BYTES)) for i in range(200)]
    if not all(more):
        first = writes.failed[b"s-%07d" % more.index(False)]
        writes.problems.append(
            f"{more.count(False)} of 200 writes failed after space was freed, the first "
            f"(#{more.index(False)}) with {type(first).__name__}: {first}"
        )


def _check_reopened(data: Path, writes: Writes) -> None:
    """Open the directory in this process: every acknowledged row, no failed one."""
    with hedgerow.connect(str(data)) as conn:
        rows = {r: d.get(b"cf:v") for r, d in conn.table("t").scan()}
    lost = [r for r, v in writes.acked.items() if rows.get(r) != v]
    ghosts = [r for r in writes.failed if r in rows]
    if lost:
        writes.problems.append(f"{len(lost)} acknowledged writes lost or changed, e.g. {lost[:5]}")
    if ghosts:
        writes.problems.append(
            f"{len(ghosts)} failed writes are there after reopen, e.g. {ghosts[:5]}"
        )
    assert not writes.problems, "\n".join(
        [f"{len(writes.acked)} writes acknowledged, {len(writes.failed)} failed:", *writes.problems]
    )


def _stop_cleanly(server: subprocess.Popen[bytes], log: Path, writes: Writes) -> None:
    code = _stop(server, signal.SIGTERM)
    if code != 0:
        writes.problems.append(
            f"the server did not stop cleanly ({code}): {log.read_bytes()[-1500:]!r}"
        )


def test_disk_full_reads_work_writes_resume_after_space_is_freed(
    small_fs: Path, tmp_path: Path
) -> None:
    ballast = _ballast(small_fs)
    data, port, log = small_fs / "db", _free_port(), tmp_path / "server.log"
    url = f"hedgerow://127.0.0.1:{port}"
    server = _start(data, port, log)
    writes = Writes()
    try:
        with hedgerow.connect(url, timeout_s=CLIENT_TIMEOUT_S) as conn:
            conn.create_table("t", {"cf": {"max_versions": 1}})
        _fill(url, writes)  # 1.
        with hedgerow.connect(url, timeout_s=CLIENT_TIMEOUT_S) as conn:
            t = conn.table("t")
            _check_reads(t, dict(writes.acked))  # 2.
            _free_and_resume(t, ballast, writes)  # 3.
    finally:
        _stop_cleanly(server, log, writes)
    _check_reopened(data, writes)  # 4.


def test_server_killed_on_a_full_disk_restarts_there_and_resumes_after_space_is_freed(
    small_fs: Path, tmp_path: Path
) -> None:
    """The same, with a SIGKILL once the disk is full and a restart on the still-full disk:
    the server must start (WAL replay may not need space it cannot get) and serve reads."""
    ballast = _ballast(small_fs)
    data, port, log = small_fs / "db", _free_port(), tmp_path / "server.log"
    url = f"hedgerow://127.0.0.1:{port}"
    server = _start(data, port, log)
    writes = Writes()
    try:
        with hedgerow.connect(url, timeout_s=CLIENT_TIMEOUT_S) as conn:
            conn.create_table("t", {"cf": {"max_versions": 1}})
        _fill(url, writes)
    finally:
        _stop(server, signal.SIGKILL)
    try:
        server = _start(data, port, log)
    except AssertionError as e:
        writes.problems.append(f"the server does not start on the full disk: {e}")
        os.remove(ballast)
        server = _start(data, port, log)
        try:
            with hedgerow.connect(url, timeout_s=CLIENT_TIMEOUT_S) as conn:
                _check_reads(conn.table("t"), dict(writes.acked))
        finally:
            _stop_cleanly(server, log, writes)
        _check_reopened(data, writes)
        return
    try:
        with hedgerow.connect(url, timeout_s=CLIENT_TIMEOUT_S) as conn:
            t = conn.table("t")
            _check_reads(t, dict(writes.acked))
            _free_and_resume(t, ballast, writes)
    finally:
        _stop_cleanly(server, log, writes)
    _check_reopened(data, writes)
