"""Issue 11, finding 9: slow and idle connections must not take the Thrift gateway's threads.

2026-12: ``hedgerow thrift`` ran one thread per connection, with no connection cap
and no handshake or idle timeout: 2,000 slow connections made 2,028 threads, and a
connection that sent nothing, or half a request, kept its thread for ever. Now one
event loop holds every socket and a fixed pool of workers runs whole requests only
(docs/design/thrift-gateway.md#connections-threads-and-limits).

Here a real ``hedgerow thrift`` process (8 workers, 3 s handshake and request
timeouts) gets 340 connections that send nothing, half a request, or a request one
byte at a time. Its thread count (``/proc/PID/status``) must not move, a happybase
client must keep getting answers, and the server must close all 340 after the
timeouts. Against the old server (``hedgerow thrift`` of commit b7305ac, without
the flags, which it did not have) the same load took the gateway from 6 to 346
threads, and none of the 340 connections was closed 10 s later.
"""

from __future__ import annotations

import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

SILENT, HALF, DRIP = 160, 160, 20
WORKERS = 8
TIMEOUT_S = 3.0


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads: line")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _put_request() -> bytes:
    """A 4 KiB mutateRow as a thriftpy2 client writes it (too long to drip in 3 s)."""
    from thriftpy2.protocol.binary import TBinaryProtocolFactory
    from thriftpy2.thrift import TClient
    from thriftpy2.transport.memory import TMemoryBuffer

    from hedgerow.gateways.thrift import load_idl

    T = load_idl()
    out = TMemoryBuffer()
    TClient(T.Hbase, TBinaryProtocolFactory().get_protocol(out))._send(
        "mutateRow",
        tableName=b"t",
        row=b"slow",
        mutations=[T.Mutation(column=b"cf:a", value=b"x" * 4096)],
        attributes={},
    )
    return out.getvalue()  # type: ignore[no-any-return]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="counts threads in /proc")
def test_slow_connections_take_no_threads_and_are_closed_after_the_timeouts(
    tmp_path: Path,
) -> None:
    import happybase

    port = _free_port()
    cmd = [sys.executable, "-m", "hedgerow.cli.main", "thrift", "--data", str(tmp_path / "d")]
    cmd += ["--port", str(port), "--workers", str(WORKERS), "--max-connections", "1000"]
    cmd += ["--handshake-timeout", str(TIMEOUT_S), "--request-timeout", str(TIMEOUT_S)]
    gw = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    socks: list[socket.socket] = []
    hb = None
    try:
        assert gw.stdout is not None and gw.stderr is not None
        banner = gw.stdout.readline()
        assert f"127.0.0.1:{port}" in banner, banner + gw.stderr.read()
        hb = happybase.Connection("127.0.0.1", port)
        hb.create_table("t", {"cf": {}})
        t = hb.table("t")
        for i in range(100):
            t.put(b"r%03d" % i, {b"cf:a": b"%d" % i})
        baseline = _threads(gw.pid)

        request = _put_request()
        start = time.monotonic()
        for i in range(SILENT + HALF + DRIP):
            s = socket.create_connection(("127.0.0.1", port))
            if SILENT <= i < SILENT + HALF:
                s.sendall(request[:10])  # half a request, then nothing
            socks.append(s)
        drip = socks[SILENT + HALF :]

        # while they are all connected: no new thread, and happybase gets its answers
        slowest = 0.0
        sent = 0
        while time.monotonic() - start < TIMEOUT_S - 1.0:
            for s in drip:  # one byte of a request at a time
                s.sendall(request[sent : sent + 1])
            sent += 1
            t0 = time.monotonic()
            assert t.row(b"r042") == {b"cf:a": b"42"}
            t.put(b"new", {b"cf:a": b"%d" % sent})
            assert len(list(t.scan(limit=50))) == 50
            slowest = max(slowest, time.monotonic() - t0)
            assert _threads(gw.pid) <= baseline + 1, (baseline, _threads(gw.pid))
            time.sleep(0.05)
        assert slowest < 1.0, slowest

        assert sent < len(request)
        # after the timeouts the server closes every one of them (EOF or reset)
        open_socks = set(socks)
        deadline = start + TIMEOUT_S + 5.0
        while open_socks and time.monotonic() < deadline:
            readable, _, _ = select.select(list(open_socks), [], [], 0.2)
            for s in readable:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                assert data == b"", data  # nothing was ever answered to them
                open_socks.discard(s)
        closed_after = time.monotonic() - start
        assert not open_socks, (
            f"{len(open_socks)} of {len(socks)} still open after {closed_after:.1f} s"
        )
        assert closed_after > TIMEOUT_S - 0.5

        # the happybase client kept its connection (it was never idle that long), and
        # nothing the slow connections sent was applied
        assert t.row(b"new") == {b"cf:a": b"%d" % sent}
        assert t.row(b"slow") == {}
        assert _threads(gw.pid) <= baseline + 1
    finally:
        for s in socks:
            s.close()
        if hb is not None:
            hb.close()
        gw.send_signal(signal.SIGTERM)
        out, err = gw.communicate(timeout=30)
    assert gw.returncode == 0, err
    assert "stopped; store closed" in err
