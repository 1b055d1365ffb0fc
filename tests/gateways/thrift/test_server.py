"""The gateway's server behaviour: concurrency, idle connections, scanner leases, bad input,
binary-safe keys, and happybase over the compact protocol."""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import pytest


def test_bad_requests_never_take_the_gateway_down(make_gateway: Any, T: Any) -> None:
    gw = make_gateway()
    for junk in (b"\x00" * 64, b"GET / HTTP/1.1\r\n\r\n", b"\x80\x01\x00\x01\x7f\xff\xff\xff", b""):
        with socket.create_connection(("127.0.0.1", gw.port)) as s:
            s.sendall(junk)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(5)
            try:
                s.recv(100)  # the server closes this connection only
            except OSError:
                pass
    c = gw.client()
    c.createTable(b"t", [T.ColumnDescriptor(name=b"cf")])
    with pytest.raises(T.IOError, match="TableNotFound"):
        c.getRow(b"missing", b"r", {})
    with pytest.raises(T.IOError):
        c.getRow(b"bad name!", b"r", {})
    c.mutateRow(b"t", b"r", [T.Mutation(column=b"cf:s", value=b"abc")], {})
    with pytest.raises(T.IllegalArgument, match="NotACounter"):
        c.atomicIncrement(b"t", b"r", b"cf:s", 1)
    assert c.getTableNames() == [b"t"]  # the same connection still works


def test_unknown_method_is_an_application_error(make_gateway: Any) -> None:
    import thriftpy2
    from thriftpy2.rpc import make_client
    from thriftpy2.thrift import TApplicationException

    gw = make_gateway()
    other = thriftpy2.load_fp(
        __import__("io").StringIO("service Hbase { i32 noSuchMethod() }"),
        module_name="other_thrift",
    )
    c = make_client(other.Hbase, "127.0.0.1", gw.port, timeout=None)
    with pytest.raises(TApplicationException):
        c.noSuchMethod()
    c.close()


def test_binary_row_keys_and_values(gw: Any, T: Any) -> None:
    c = gw.client()
    c.createTable(b"t", [T.ColumnDescriptor(name=b"cf")])
    row, val = b"\xff\x00\xfe", b"\x80\x81\x00"
    c.mutateRow(b"t", row, [T.Mutation(column=b"cf:\xc3\x28", value=val)], {})
    (res,) = c.getRow(b"t", row, {})
    assert res.row == row and res.columns[b"cf:\xc3\x28"].value == val


def test_many_concurrent_connections(make_gateway: Any, T: Any) -> None:
    gw = make_gateway()
    gw.client().createTable(b"t", [T.ColumnDescriptor(name=b"cf")])
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            c = gw.client()
            for j in range(20):
                c.mutateRow(
                    b"t", b"r%02d-%02d" % (i, j), [T.Mutation(column=b"cf:a", value=b"x")], {}
                )
            assert len(c.getRows(b"t", [b"r%02d-%02d" % (i, j) for j in range(20)], {})) == 20
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    sid = gw.client().scannerOpen(b"t", b"", None, {})
    assert len(gw.clients[-1].scannerGetList(sid, 1000)) == 24 * 20


def test_idle_connection_survives_thriftpy2_default_timeout(make_gateway: Any, T: Any) -> None:
    """thriftpy2's server default drops a client idle for 3 s; ours keeps it (HBase: 60 s;
    our default: 600 s)."""
    gw = make_gateway()
    assert gw.server.idle_timeout_s == 600.0
    c = gw.client()
    c.getTableNames()
    time.sleep(3.5)
    assert c.getTableNames() == []


def test_idle_timeout_when_configured(make_gateway: Any) -> None:
    from thriftpy2.transport import TTransportException

    gw = make_gateway(idle_timeout_s=0.3)
    c = gw.client()
    c.getTableNames()
    time.sleep(1.0)
    with pytest.raises((TTransportException, OSError)):
        c.getTableNames()


def test_abandoned_scanner_is_reclaimed_after_its_lease(make_gateway: Any, T: Any) -> None:
    gw = make_gateway(scanner_lease_s=0.3)
    c = gw.client()
    c.createTable(b"t", [T.ColumnDescriptor(name=b"cf")])
    for i in range(5):
        c.mutateRow(b"t", b"r%d" % i, [T.Mutation(column=b"cf:a", value=b"x")], {})
    kept = c.scannerOpen(b"t", b"", None, {})
    abandoned = c.scannerOpen(b"t", b"", None, {})
    c.close()  # the client vanishes with both scanners open
    c2 = gw.client()
    for _ in range(5):  # a scanner in use keeps its lease
        time.sleep(0.1)
        assert len(c2.scannerGet(kept)) == 1
    deadline = time.monotonic() + 5
    while len(gw.server.handler.scanners) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(gw.server.handler.scanners) == 1
    with pytest.raises(T.IllegalArgument, match="scanner ID is invalid"):
        c2.scannerGetList(abandoned, 1)


@pytest.mark.parametrize("transport", ["buffered", "framed"])
def test_happybase_over_compact_protocol(make_gateway: Any, transport: str) -> None:
    import happybase

    gw = make_gateway(framed=transport == "framed", compact=True)
    conn = happybase.Connection("127.0.0.1", gw.port, protocol="compact", transport=transport)
    try:
        conn.create_table("t", {"cf": dict(max_versions=2)})
        t = conn.table("t")
        t.put(b"r1", {b"cf:a": b"1"})
        t.put(b"r2", {b"cf:a": b"2"})
        assert t.row(b"r1") == {b"cf:a": b"1"}
        assert [k for k, _ in t.scan()] == [b"r1", b"r2"]
        assert t.counter_inc(b"r3", b"cf:n", 4) == 4
        assert conn.tables() == [b"t"]
    finally:
        conn.close()


# ---- connections, threads and limits (issue 11, finding 9) ---------------------------------


def _closed_by_server(sock: socket.socket, within_s: float) -> float | None:
    """Seconds until the server closed ``sock`` (EOF or reset), or None if it did not."""
    start = time.monotonic()
    sock.settimeout(0.05)
    while time.monotonic() - start < within_s:
        try:
            if sock.recv(4096) == b"":
                return time.monotonic() - start
        except TimeoutError:
            continue
        except OSError:  # reset
            return time.monotonic() - start
    return None


def _request(api: str, seqid: int = 0, **args: Any) -> bytes:
    """A buffered binary-protocol request as a thriftpy2 client writes it."""
    from thriftpy2.protocol.binary import TBinaryProtocolFactory
    from thriftpy2.thrift import TClient
    from thriftpy2.transport.memory import TMemoryBuffer

    from hedgerow.gateways.thrift import load_idl

    out = TMemoryBuffer()
    client = TClient(load_idl().Hbase, TBinaryProtocolFactory().get_protocol(out))
    client._seqid = seqid
    client._send(api, **args)
    return out.getvalue()  # type: ignore[no-any-return]


def test_connections_over_the_cap_are_closed_at_once_and_logged(
    make_gateway: Any, T: Any, caplog: pytest.LogCaptureFixture
) -> None:
    gw = make_gateway(max_connections=4)
    c = gw.client()
    c.createTable(b"t", [T.ColumnDescriptor(name=b"cf")])
    idle = [socket.create_connection(("127.0.0.1", gw.port)) for _ in range(3)]
    deadline = time.monotonic() + 5
    while gw.server.connection_count < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gw.server.connection_count == 4
    with caplog.at_level(logging.WARNING, logger="hedgerow.gateways.thrift"):
        extra = [socket.create_connection(("127.0.0.1", gw.port)) for _ in range(3)]
        for s in extra:
            assert _closed_by_server(s, 2.0) is not None
    assert gw.server.refused == 3
    warnings = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(warnings) == 1, warnings  # rate-limited: one line for the burst
    assert "max_connections=4" in warnings[0]
    # the four admitted connections are untouched; the client among them still works
    c.mutateRow(b"t", b"r", [T.Mutation(column=b"cf:a", value=b"1")], {})
    assert c.getRow(b"t", b"r", {})[0].columns[b"cf:a"].value == b"1"
    # a slot freed is a slot a new client can take
    idle[0].close()
    deadline = time.monotonic() + 5
    while gw.server.connection_count > 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gw.client().getTableNames() == [b"t"]
    for s in idle[1:] + extra:
        s.close()


def test_a_connection_that_sends_nothing_is_closed_after_the_handshake_timeout(
    make_gateway: Any,
) -> None:
    gw = make_gateway(handshake_timeout_s=0.5)
    silent = socket.create_connection(("127.0.0.1", gw.port))
    half = socket.create_connection(("127.0.0.1", gw.port))
    half.sendall(_request("getTableNames")[:7])  # a first request that never completes
    start = time.monotonic()
    for s in (silent, half):
        assert _closed_by_server(s, 5.0) is not None
        took = time.monotonic() - start
        assert 0.3 < took < 3.0, took
        s.close()
    assert gw.server.timed_out == 2
    assert gw.client().getTableNames() == []  # others are served as before


def test_a_request_that_stalls_half_way_is_closed_after_the_request_timeout(
    make_gateway: Any,
) -> None:
    gw = make_gateway(request_timeout_s=0.5, idle_timeout_s=30)
    s = socket.create_connection(("127.0.0.1", gw.port))
    s.sendall(_request("getTableNames"))  # a whole first request: answered
    s.settimeout(5)
    assert s.recv(4096)
    s.sendall(_request("getTableNames", seqid=1)[:10])  # then half of one, and nothing
    took = _closed_by_server(s, 5.0)
    assert took is not None and took < 3.0, took
    s.close()


def test_pipelined_requests_are_answered_in_order(make_gateway: Any, T: Any) -> None:
    from thriftpy2.protocol.binary import TBinaryProtocol
    from thriftpy2.transport.memory import TMemoryBuffer

    gw = make_gateway()
    gw.client().createTable(b"t", [T.ColumnDescriptor(name=b"cf")])
    batch = b"".join(
        _request(
            "mutateRow",
            seqid=i,
            tableName=b"t",
            row=b"r%d" % i,
            mutations=[T.Mutation(column=b"cf:a", value=b"%d" % i)],
            attributes={},
        )
        for i in range(20)
    ) + _request("getRows", seqid=20, tableName=b"t", rows=[b"r0", b"r19"], attributes={})
    with socket.create_connection(("127.0.0.1", gw.port)) as s:
        s.sendall(batch)  # all at once, before reading any answer
        s.settimeout(10)
        data = b""
        seqids: list[int] = []
        while len(seqids) < 21:
            chunk = s.recv(65536)
            assert chunk, "closed early"
            data += chunk
            seqids = []
            proto = TBinaryProtocol(TMemoryBuffer(data))
            try:
                while True:
                    _, _, seqid = proto.read_message_begin()
                    proto.skip(12)  # the result struct
                    seqids.append(seqid)
            except Exception:
                pass
    assert seqids == list(range(21))


def test_over_limit_requests_get_an_error_naming_the_limit(make_gateway: Any, T: Any) -> None:
    from thriftpy2.thrift import TApplicationException

    gw = make_gateway(max_message_bytes=4096, max_message_values=100)
    c = gw.client()
    c.createTable(b"t", [T.ColumnDescriptor(name=b"cf")])
    # (a client with decode_response=False, as happybase's, gets the message as bytes)
    with pytest.raises(TApplicationException) as ei:
        c.mutateRow(b"t", b"r", [T.Mutation(column=b"cf:a", value=b"v" * 5000)], {})
    assert b"max_message_bytes=4096" in ei.value.message
    c2 = gw.client()
    with pytest.raises(TApplicationException) as ei:
        c2.getRows(b"t", [b"r%d" % i for i in range(200)], {})
    assert b"over 100 values (max_message_values)" in ei.value.message
    # nothing was written, and the gateway serves everyone else
    assert gw.client().getRow(b"t", b"r", {}) == []
    assert gw.server.rejected == 2


def test_a_client_that_does_not_take_its_answers_is_dropped(make_gateway: Any, T: Any) -> None:
    gw = make_gateway(request_timeout_s=0.5, idle_timeout_s=30)
    c = gw.client()
    c.createTable(b"t", [T.ColumnDescriptor(name=b"cf")])
    big = b"x" * (1 << 20)
    rows = [b"r%d" % i for i in range(8)]
    for r in rows:
        c.mutateRow(b"t", r, [T.Mutation(column=b"cf:a", value=big)], {})
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", gw.port))
    for i in range(4):  # 4 x 8 MiB of answers, never read
        s.sendall(_request("getRows", seqid=i, tableName=b"t", rows=rows, attributes={}))
    deadline = time.monotonic() + 10
    while gw.server.timed_out == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gw.server.timed_out == 1
    s.close()
    assert len(c.getRows(b"t", rows[:1], {})) == 1


def test_thread_count_is_bounded_by_the_pool(tmp_path: Any) -> None:
    """The in-process check; tests/regressions/test_i11_f9_thrift_slow_connections.py
    counts a real gateway process's threads under 300 connections."""
    import hedgerow
    from hedgerow.gateways.thrift import ThriftServer

    conn = hedgerow.connect(str(tmp_path / "d"))
    before = threading.active_count()
    srv = ThriftServer(conn, port=0, workers=4).start()
    try:
        started = threading.active_count()
        assert started - before == 4 + 1  # the workers and the event loop
        socks = [socket.create_connection(("127.0.0.1", srv.address[1])) for _ in range(100)]
        for s in socks[:50]:
            s.sendall(_request("getTableNames")[:9])  # half a request each
        import happybase

        hb = happybase.Connection("127.0.0.1", srv.address[1])
        assert hb.tables() == []
        assert threading.active_count() == started
        assert srv.connection_count == 101
        hb.close()
        for s in socks:
            s.close()
    finally:
        srv.stop()
        conn.close()
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() <= before  # stop() ended every thread it started


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"workers": 0}, "workers must be a positive integer"),
        ({"max_connections": -1}, "max_connections"),
        ({"idle_timeout_s": 0}, "idle_timeout_s must be positive or None"),
        ({"handshake_timeout_s": -1.0}, "handshake_timeout_s"),
        ({"max_message_bytes": 1.5}, "max_message_bytes"),
        ({"max_message_bytes": 2**31}, "max_message_bytes must be at most"),
    ],
)
def test_bad_settings_are_refused_naming_them(kw: dict[str, Any], match: str) -> None:
    import hedgerow
    from hedgerow.gateways.thrift import ThriftServer

    with pytest.raises(hedgerow.InvalidArgument, match=match):
        ThriftServer(None, port=0, **kw)  # type: ignore[arg-type]


def test_cli_help_shows_every_limit_and_its_default(capsys: pytest.CaptureFixture[str]) -> None:
    from hedgerow.cli.main import main
    from hedgerow.gateways.thrift.server import DEFAULTS, TUNABLES

    for argv in (["thrift", "--help"], ["standalone", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        out = " ".join(capsys.readouterr().out.split())
        if argv[0] == "thrift":
            for flag, key in [
                ("--workers N", "workers"),
                ("--max-connections N", "max_connections"),
                ("--handshake-timeout SECONDS", "handshake_timeout_s"),
                ("--idle-timeout SECONDS", "idle_timeout_s"),
                ("--request-timeout SECONDS", "request_timeout_s"),
                ("--max-message-bytes BYTES", "max_message_bytes"),
                ("--max-message-values N", "max_message_values"),
            ]:
                default = DEFAULTS[key]
                shown = f"{default:g}" if isinstance(default, float) else str(default)
                assert flag in out and f"(default {shown})" in out, flag
        else:
            for key in TUNABLES:
                assert f"{key} (default {DEFAULTS[key]})" in out, key


def test_standalone_passes_thrift_settings_to_the_gateway(tmp_path: Any) -> None:
    import hedgerow
    from hedgerow.cli.standalone_cmd import _thrift_options
    from hedgerow.server.standalone import StandaloneConfig, StandaloneServer

    opts = _thrift_options(["max_connections=3", "idle_timeout_s=0", "request_timeout_s=2.5"])
    assert opts == {"max_connections": 3, "idle_timeout_s": None, "request_timeout_s": 2.5}
    with pytest.raises(hedgerow.InvalidArgument, match="OPTION one of .*max_connections"):
        _thrift_options(["max_conections=3"])
    with pytest.raises(hedgerow.InvalidArgument, match="workers expects a number"):
        _thrift_options(["workers=many"])
    srv = StandaloneServer(
        StandaloneConfig(str(tmp_path / "db"), port=0, thrift_port=0, thrift_options=opts)
    )
    srv.start()
    try:
        gw = srv._thrift
        assert (gw.max_connections, gw.idle_timeout_s, gw.request_timeout_s) == (3, None, 2.5)
        assert gw.handshake_timeout_s == 60.0  # the others keep their defaults
    finally:
        srv.stop()
