"""The gateway's server behaviour: concurrency, idle connections, scanner leases, bad input,
binary-safe keys, and happybase over the compact protocol."""

from __future__ import annotations

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
