"""RpcServer over real loopback sockets with a fake handler."""

from __future__ import annotations

import asyncio
import gc
import socket
import struct
import threading
import time

import pytest

from hedgerow.errors import CorruptionError, FilterSyntaxError, TableNotFound
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.rpc import (
    AsyncSocketTransport,
    ConnectionLost,
    DeadlineExceeded,
    RemoteInternalError,
    RpcBackend,
    RpcServer,
    ScannerExpired,
    SocketTransport,
    UnknownMessageType,
)
from hedgerow.rpc import messages as m
from hedgerow.rpc.codec import packb, unpackb
from hedgerow.rpc.framing import Frame, FrameDecoder, encode_frame, encode_preamble
from hedgerow.rpc.operations import MessageType
from hedgerow.rpc.operations import Operations as Ops
from hedgerow.rpc.wire_format import (
    MAGIC,
    MIN_PROTOCOL_VERSION,
    PROTOCOL_VERSION,
    FrameFlag,
)

from .conftest import FakeHandler, wait_until


def _get(t: SocketTransport, row: bytes, timeout_s: float | None = None) -> list:
    body = packb(m.GetRequest("t", row, ReadSpec()).to_wire())
    return m.CellsResponse.from_wire(unpackb(t.call(MessageType.GET, body, timeout_s))).cells


def test_ping_and_get(transport: SocketTransport) -> None:
    assert transport.call(MessageType.PING, packb(b"hi")) == packb(b"hi")
    assert _get(transport, b"r1")[0].row == b"r1"


def test_many_concurrent_requests_out_of_order(transport: SocketTransport) -> None:
    """Slow and fast requests share one connection; fast ones finish first."""
    done: list[bytes] = []
    lock = threading.Lock()

    def run(row: bytes) -> None:
        cells = _get(transport, row)
        with lock:
            done.append(cells[0].row)

    slow = threading.Thread(target=run, args=(b"sleep:0.4",))
    slow.start()
    time.sleep(0.05)
    fast = [threading.Thread(target=run, args=(b"f%d" % i,)) for i in range(30)]
    for t in fast:
        t.start()
    for t in fast:
        t.join()
    assert len(done) == 30 and b"sleep:0.4" not in done  # all fast answers came back first
    slow.join()
    assert done[-1] == b"sleep:0.4"


def test_deadline_client_side_and_server_drops_late_work(
    server: RpcServer, handler: FakeHandler
) -> None:
    t = SocketTransport(server.host, server.port, timeout_s=5.0)
    try:
        t0 = time.monotonic()
        with pytest.raises(DeadlineExceeded, match="within"):
            _get(t, b"sleep:0.5", timeout_s=0.1)
        assert time.monotonic() - t0 < 0.4
        assert _get(t, b"after")[0].row == b"after"  # connection still usable
    finally:
        t.close()
    # Server side: a request that waited in the queue past its deadline is not run.
    srv = RpcServer(handler, workers=1)
    srv.start_in_thread()
    t = SocketTransport(srv.host, srv.port)
    try:
        blocker = threading.Thread(target=_get, args=(t, b"sleep:0.4"))
        blocker.start()
        time.sleep(0.05)
        calls = handler.calls
        with pytest.raises(DeadlineExceeded):
            _get(t, b"late", timeout_s=0.1)
        blocker.join()
        assert wait_until(lambda: srv.requests_served >= 2)
        time.sleep(0.1)
        assert handler.calls == calls  # the late request never reached the handler
    finally:
        t.close()
        srv.stop()


def test_server_answers_deadline_exceeded_on_the_wire(handler: FakeHandler) -> None:
    srv = RpcServer(handler, workers=1)
    srv.start_in_thread()
    try:
        with socket.create_connection((srv.host, srv.port)) as s:
            s.sendall(encode_preamble())
            body = packb(m.GetRequest("t", b"sleep:0.3", ReadSpec()).to_wire())
            late = packb(m.GetRequest("t", b"x", ReadSpec()).to_wire())
            s.sendall(
                encode_frame(MessageType.GET, 0, 1, 0, body)
                + encode_frame(MessageType.GET, 0, 2, 50, late)
            )
            frames = _read_frames(s, 2)
        by_id = {f.request_id: f for f in frames}
        assert by_id[2].flags & FrameFlag.ERROR
        assert unpackb(by_id[2].body)["code"] == "DEADLINE_EXCEEDED"
        assert not by_id[1].flags & FrameFlag.ERROR
    finally:
        srv.stop()


def _read_frames(s: socket.socket, n: int, timeout_s: float = 5.0) -> list:
    s.settimeout(timeout_s)
    d = FrameDecoder()
    out: list = []
    while len(out) < n:
        data = s.recv(65536)
        if not data:
            break
        out += d.feed(data)
    return out


def test_error_mapping(transport: SocketTransport) -> None:
    body = packb(m.GetRequest("nope", b"r", ReadSpec()).to_wire())
    with pytest.raises(TableNotFound, match="'nope' does not exist"):
        transport.call(MessageType.GET, body)
    with pytest.raises(CorruptionError) as ei:
        _get(transport, b"err:corrupt")
    assert ei.value.path == "/x/y.sst" and ei.value.offset == 42
    with pytest.raises(FilterSyntaxError) as fi:
        _get(transport, b"err:filter")
    assert fi.value.position == 7
    with pytest.raises(RemoteInternalError, match="KeyError"):
        _get(transport, b"bug")
    with pytest.raises(UnknownMessageType):
        transport.call(MessageType.AUTH, packb(None))
    with pytest.raises(UnknownMessageType):
        transport.call(200, packb(None))
    assert _get(transport, b"still-ok")[0].row == b"still-ok"


def test_a_panic_in_the_core_is_one_requests_internal_error(
    server: RpcServer, transport: SocketTransport
) -> None:
    """A Rust panic reaches Python as PanicException, a BaseException; the worker that
    ran the request used to re-raise it and die, so every later request on that worker
    hung. Now it is answered INTERNAL and the server goes on serving."""
    before = server.internal_errors
    for _ in range(2 * server._workers):  # more than one worker would die otherwise
        with pytest.raises(RemoteInternalError, match="PanicException: a bug in the core"):
            _get(transport, b"panic", timeout_s=5)
    assert server.internal_errors - before == 2 * server._workers
    assert _get(transport, b"still-ok", timeout_s=5)[0].row == b"still-ok"


@pytest.mark.parametrize(
    "payload",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # garbage / bad magic
        struct.pack(">4sHH", MAGIC, 99, 0),  # unknown version
        encode_preamble() + encode_frame(30, 0, 5, 0, b"x" * (2 << 20)),  # oversized
        encode_preamble() + struct.pack(">IBBHII", 0, 30, 0x40, 0, 5, 0),  # bad flags
        encode_preamble() + b"\xff" * 64,  # garbage after the handshake
    ],
    ids=["garbage", "version", "oversized", "bad-header", "garbage-frames"],
)
def test_bad_input_closes_that_connection_only(
    server: RpcServer, transport: SocketTransport, payload: bytes
) -> None:
    assert _get(transport, b"before")[0].row == b"before"
    with socket.create_connection((server.host, server.port)) as s:
        try:
            s.sendall(payload)
        except OSError:
            pass
        s.settimeout(5)
        data = b""
        try:
            while chunk := s.recv(65536):
                data += chunk
        except ConnectionResetError:
            pass
    assert data.startswith(MAGIC)  # the server's preamble, then an error frame, then EOF
    (frame,) = FrameDecoder(expect_preamble=True).feed(data)
    assert frame.flags & FrameFlag.ERROR
    assert unpackb(frame.body)["code"] in (
        "PROTOCOL",
        "UNSUPPORTED_VERSION",
        "FRAME_TOO_LARGE",
    )
    if payload.startswith(struct.pack(">4sH", MAGIC, 99)):
        assert "version 99" in unpackb(frame.body)["message"]
    assert _get(transport, b"after")[0].row == b"after"  # other connections unaffected


def test_bad_body_and_unknown_type_get_error_replies_connection_stays(server: RpcServer) -> None:
    with socket.create_connection((server.host, server.port)) as s:
        s.sendall(encode_preamble())
        s.sendall(encode_frame(30, 0, 1, 0, b"\xc1garbage"))
        s.sendall(encode_frame(250, 0, 2, 0, b"\xc0"))
        s.sendall(encode_frame(30, 0, 3, 0, packb(["t", "not-bytes", None])))
        s.sendall(encode_frame(1, 0, 4, 0, packb(b"ok")))
        frames = _read_frames(s, 4)
    codes = {f.request_id: unpackb(f.body) for f in frames}
    assert codes[1]["code"] == "PROTOCOL"
    assert codes[2]["code"] == "UNKNOWN_MESSAGE_TYPE"
    assert codes[3]["code"] == "PROTOCOL"
    assert codes[4] == b"ok"


def test_client_refuses_server_of_another_version(server: RpcServer) -> None:
    """A peer of a version outside the server's range gets an error naming both."""
    with socket.create_connection((server.host, server.port)) as s:
        s.sendall(struct.pack(">4sHH", MAGIC, PROTOCOL_VERSION + 1, 0))
        s.settimeout(5)
        data = s.recv(65536)
        while more := s.recv(65536):
            data += more
    frames = FrameDecoder().feed(data)
    err = unpackb(frames[0].body)
    assert err["code"] == "UNSUPPORTED_VERSION"
    assert f"version {PROTOCOL_VERSION + 1}" in err["message"]
    assert f"versions {MIN_PROTOCOL_VERSION} to {PROTOCOL_VERSION}" in err["message"]


@pytest.mark.parametrize("version", range(MIN_PROTOCOL_VERSION, PROTOCOL_VERSION + 1))
def test_server_answers_with_the_version_the_client_speaks(server: RpcServer, version: int) -> None:
    """A version-1 client (no region fields) is still served: the server's preamble
    answers with the lower version, and requests work."""
    with socket.create_connection((server.host, server.port)) as s:
        s.sendall(encode_preamble(version))
        s.sendall(encode_frame(int(MessageType.TABLE_NAMES), 0, 5, 1000, packb(None)))
        s.settimeout(5)
        d = FrameDecoder()
        frames: list[Frame] = []
        while not frames:
            frames = d.feed(s.recv(65536))
    assert d.preamble is not None and d.preamble.version == version
    assert unpackb(frames[0].body) == ["t"]


def test_scanner_streams_in_batches_and_closes(server: RpcServer, handler: FakeHandler) -> None:
    t = SocketTransport(server.host, server.port)
    b = RpcBackend(t, scan_batch_rows=7)
    try:
        rows = list(b.call(Ops.scan, "t", ScanRange(extra={"n": 50}), ReadSpec()))
        assert [r for r, _ in rows] == [b"r%05d" % i for i in range(50)]
        assert server.dispatcher.open_scanners == 0
        assert wait_until(lambda: handler.scans_closed == handler.scans_open == 1)
        # abandoned half-way, explicitly closed
        it = b.call(Ops.scan, "t", ScanRange(extra={"n": 50}), ReadSpec())
        next(it)
        assert server.dispatcher.open_scanners == 1
        it.close()
        assert server.dispatcher.open_scanners == 0
        # abandoned and garbage-collected: closed with the next call
        it2 = b.call(Ops.scan, "t", ScanRange(extra={"n": 50}), ReadSpec())
        next(it2)
        assert server.dispatcher.open_scanners == 1
        del it2
        gc.collect()
        b.call(Ops.table_names)
        assert wait_until(lambda: server.dispatcher.open_scanners == 0)
    finally:
        t.close()


def test_scanner_lease_expires(server: RpcServer, handler: FakeHandler) -> None:
    t = SocketTransport(server.host, server.port)
    b = RpcBackend(t, scan_batch_rows=5)
    try:
        it = b.call(Ops.scan, "t", ScanRange(extra={"n": 50}), ReadSpec())
        next(it)
        assert server.dispatcher.open_scanners == 1
        assert wait_until(lambda: server.dispatcher.open_scanners == 0, 3.0)  # lease 0.3 s
        for _ in range(4):
            next(it)  # rest of the buffered batch
        with pytest.raises(ScannerExpired, match="lease"):
            next(it)
        assert wait_until(lambda: handler.scans_closed == handler.scans_open)
    finally:
        t.close()


def test_scanners_of_a_vanished_client_are_closed(server: RpcServer, handler: FakeHandler) -> None:
    t = SocketTransport(server.host, server.port)
    it = RpcBackend(t, scan_batch_rows=5).call(
        Ops.scan, "t", ScanRange(extra={"n": 50}), ReadSpec()
    )
    next(it)
    assert server.dispatcher.open_scanners == 1
    t.close()  # the connection goes: the server closes its scanners at once
    assert wait_until(lambda: server.dispatcher.open_scanners == 0, 1.0)
    assert wait_until(lambda: handler.scans_closed == handler.scans_open)


def test_server_shutdown_while_client_waits(handler: FakeHandler) -> None:
    srv = RpcServer(handler)
    srv.start_in_thread()
    t = SocketTransport(srv.host, srv.port, timeout_s=10)
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            _get(t, b"sleep:1.0")
        except BaseException as exc:
            errors.append(exc)

    th = threading.Thread(target=wait)
    th.start()
    time.sleep(0.1)
    t0 = time.monotonic()
    threading.Thread(target=srv.stop).start()
    th.join(5)
    assert not th.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], ConnectionLost), errors
    assert "closed the connection" in str(errors[0])
    assert time.monotonic() - t0 < 3
    # server gone: a new call fails fast with a clear error, never hangs
    with pytest.raises(ConnectionLost, match="cannot connect"):
        _get(t, b"x", timeout_s=1.0)
    t.close()


def test_blackholed_server_fails_after_deadline() -> None:
    """A listener that never answers the handshake: the call ends at its deadline."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    try:
        t = SocketTransport("127.0.0.1", lst.getsockname()[1], connect_timeout_s=0.3)
        t0 = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            t.call(MessageType.PING, packb(b""), 0.3)
        assert time.monotonic() - t0 < 2
        t.close()
    finally:
        lst.close()


def test_async_transport(server: RpcServer) -> None:
    async def main() -> None:
        t = AsyncSocketTransport(server.host, server.port, timeout_s=5)
        body = lambda row: packb(m.GetRequest("t", row, ReadSpec()).to_wire())  # noqa: E731
        slow = asyncio.ensure_future(t.call(MessageType.GET, body(b"sleep:0.3")))
        fast = await asyncio.gather(*(t.call(MessageType.GET, body(b"a%d" % i)) for i in range(20)))
        assert not slow.done() and len(fast) == 20
        assert unpackb(await slow)[0][0] == b"sleep:0.3"
        with pytest.raises(DeadlineExceeded):
            await t.call(MessageType.GET, body(b"sleep:0.5"), 0.1)
        with pytest.raises(TableNotFound):
            await t.call(MessageType.GET, packb(m.GetRequest("zz", b"r", ReadSpec()).to_wire()))
        await t.close()

    asyncio.run(main())


def test_max_in_flight_pauses_reading_but_serves_all(handler: FakeHandler) -> None:
    srv = RpcServer(handler, max_in_flight=2, workers=4)
    srv.start_in_thread()
    t = SocketTransport(srv.host, srv.port)
    try:
        ths = [threading.Thread(target=_get, args=(t, b"sleep:0.05")) for _ in range(10)]
        for th in ths:
            th.start()
        for th in ths:
            th.join(5)
        assert handler.calls == 10
    finally:
        t.close()
        srv.stop()
