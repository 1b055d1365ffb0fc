"""``hedgerow standalone`` as a subprocess: concurrent clients, splits, SIGKILL and restart.

Four client processes write and read through ``hedgerow://`` while the table
splits (forced through the Admin API and automatically past a tiny
``region_split_bytes``); scans run meanwhile must return every preloaded row
exactly once, in order. Then the server is killed with SIGKILL, restarted on
the same directory, and every acknowledged write must be there.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import hedgerow
from hedgerow.errors import HedgerowError

pytestmark = pytest.mark.integration

PRELOAD = 600
CLIENTS = 4
PER_CLIENT = 250

CLIENT = textwrap.dedent(
    """
    import sys, hedgerow
    url, k, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    conn = hedgerow.connect(url, timeout_s=30)
    t = conn.table("t")
    for i in range(n):
        row = b"w%d-%06d" % (k, i)
        t.put(row, {b"cf:v": b"%d" % i, b"cf2:w": b"x" * 200})
        print(row.decode(), flush=True)
        got = t.row(row)
        assert got[b"cf:v"] == b"%d" % i, (row, got)
        if i % 50 == 0:
            assert t.counter_inc(b"counter", b"cf:n") >= 1
    conn.close()
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hedgerow.cli.main",
            "standalone",
            "--data",
            data,
            "--port",
            str(port),
            "--thrift-port",
            "-1",
            "--set",
            "flush_size_bytes=65536",
            "--set",
            "region_split_bytes=150000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.strip() == b"ready":
            return proc
    proc.kill()
    raise AssertionError(f"server did not start: {proc.stderr.read() if proc.stderr else b''!r}")


def _stop(proc: subprocess.Popen[bytes], sig: int) -> None:
    proc.send_signal(sig)
    proc.wait(timeout=60)
    for f in (proc.stdout, proc.stderr):
        if f is not None:
            f.close()


def test_clients_splits_kill_restart(tmp_path: Path) -> None:
    data = str(tmp_path / "db")
    port = _free_port()
    url = f"hedgerow://127.0.0.1:{port}"
    server = _start(data, port)
    try:
        conn = hedgerow.connect(url, timeout_s=30)
        conn.create_table("t", {"cf": {}, "cf2": {"compression": "lz4"}})
        t = conn.table("t")
        preload = [b"p-%06d" % i for i in range(PRELOAD)]
        with t.batch(batch_size=200) as b:
            for r in preload:
                b.put(r, {b"cf:v": r, b"cf2:w": b"y" * 200})

        script = tmp_path / "client.py"
        script.write_text(CLIENT)
        clients = [
            subprocess.Popen(
                [sys.executable, str(script), url, str(k), str(PER_CLIENT)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            for k in range(CLIENTS)
        ]

        # scans while splits happen: every preloaded row exactly once, in order
        scan_errors: list[str] = []
        scans_done = [0]
        stop = threading.Event()

        def scanner() -> None:
            c = hedgerow.connect(url, timeout_s=30)
            try:
                while not stop.is_set():
                    rows = [r for r, _ in c.table("t").scan(row_prefix=b"p-")]
                    if rows != preload:
                        regions = [
                            (r["start_key"], r["end_key"]) for r in c.admin().list_regions("t")
                        ]
                        scan_errors.append(
                            f"scan saw {len(rows)} rows, {len(set(rows))} distinct; "
                            f"regions {regions}"
                        )
                    every = [r for r, _ in c.table("t").scan()]
                    if every != sorted(set(every)):
                        scan_errors.append("full scan out of order or with duplicates")
                    scans_done[0] += 1
            finally:
                c.close()

        th = threading.Thread(target=scanner)
        th.start()
        admin = conn.admin()
        forced = 0
        for key in (b"p-000300", b"p-000150", b"p-000450", b"w1", b"w3", b"w2-000100"):
            time.sleep(0.3)
            try:
                admin.split("t", key)
                forced += 1
            except HedgerowError as e:  # the key's region may be splitting by itself
                print("split skipped:", e)
        acked: list[bytes] = []
        for c in clients:
            out, err = c.communicate(timeout=240)
            assert c.returncode == 0, err.decode(errors="replace")[-2000:]
            acked += [ln.encode() for ln in out.decode().split()]
        stop.set()
        th.join()
        assert not scan_errors, scan_errors[:3]
        assert scans_done[0] >= 3
        regions = admin.list_regions("t")
        assert forced >= 5 and len(regions) >= 6, (forced, len(regions))
        assert len(acked) == CLIENTS * PER_CLIENT
        counter = t.counter_get(b"counter", b"cf:n")
        assert counter == CLIENTS * (PER_CLIENT // 50)
        conn.close()
    finally:
        if server.poll() is None:
            _stop(server, signal.SIGKILL)

    # restart after SIGKILL: everything acknowledged is there, exactly once
    server = _start(data, port)
    try:
        with hedgerow.connect(url, timeout_s=30) as conn:
            t = conn.table("t")
            rows = [r for r, _ in t.scan()]
            assert rows == sorted(set(rows))
            assert set(preload) | set(acked) <= set(rows)
            for r in acked[::37]:
                assert t.row(r)[b"cf:v"] == b"%d" % int(r.split(b"-")[1])
            assert t.counter_get(b"counter", b"cf:n") == CLIENTS * (PER_CLIENT // 50)
    finally:
        _stop(server, signal.SIGTERM)
    assert os.path.exists(os.path.join(data, "CATALOG"))


def test_server_gone_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    data = str(tmp_path / "db")
    port = _free_port()
    server = _start(data, port)
    conn = hedgerow.connect(f"hedgerow://127.0.0.1:{port}", timeout_s=2)
    conn.create_table("t", {"cf": {}})
    conn.table("t").put(b"a", {b"cf:v": b"1"})
    _stop(server, signal.SIGKILL)
    started = time.monotonic()
    with pytest.raises(HedgerowError) as ei:
        conn.table("t").row(b"a")
    assert time.monotonic() - started < 10
    assert "127.0.0.1" in str(ei.value) or "connect" in str(ei.value).lower()
    conn.close()
