"""Issue 11, finding 7: a row larger than the maximum frame could be written but not read.

Seven accepted 10 MiB puts make a 70 MiB row; its GET answer (and any scan batch holding
it, even with ``batch_size=1``) is one frame over the 64 MiB maximum, which the client's
decoder refused with FrameTooLarge, killing the connection. Protocol version 3 sends such
answers in pieces (docs/formats/rpc.md#answers-in-pieces-version-3). Checked on the old
code (commit b7305ac): the first ``row()`` raised FrameTooLarge and this test failed.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

import hedgerow
from hedgerow.engine import Engine, EngineConfig
from hedgerow.model.read_spec import ReadSpec
from hedgerow.rpc import AnswerTooLarge, AsyncSocketTransport, RpcServer
from hedgerow.rpc import messages as m
from hedgerow.rpc.codec import packb, unpackb
from hedgerow.rpc.framing import FrameDecoder, encode_frame, encode_preamble
from hedgerow.rpc.operations import MessageType
from hedgerow.rpc.wire_format import FrameFlag

CELL = 10 * 1024 * 1024
CELLS = 7


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    engine = Engine(str(tmp_path_factory.mktemp("db")), EngineConfig.from_options({}))
    server = RpcServer(engine)
    host, port = server.start_in_thread()
    url = f"hedgerow://{host}:{port}"
    conn = hedgerow.connect(url, timeout_s=60)
    conn.create_table("t", {"cf": {}})
    t = conn.table("t")
    for i in range(CELLS):  # each put is accepted: a cell is at most 10 MiB
        t.put(b"big", {b"cf:q%d" % i: bytes([65 + i]) * CELL})
    t.put(b"small", {b"cf:a": b"1"})
    conn.close()
    try:
        yield url
    finally:
        server.stop()
        engine.close()


def _check_big(data: dict[bytes, bytes]) -> None:
    assert sorted(data) == [b"cf:q%d" % i for i in range(CELLS)]
    for i in range(CELLS):
        v = data[b"cf:q%d" % i]
        assert len(v) == CELL and v[:1] == v[-1:] == bytes([65 + i])


def test_a_70_mib_row_reads_with_get_and_scan(url: str) -> None:
    conn = hedgerow.connect(url, timeout_s=60)
    try:
        t = conn.table("t")
        _check_big(t.row(b"big"))
        rows = list(t.scan(batch_size=1))
        assert [r for r, _ in rows] == [b"big", b"small"]
        _check_big(rows[0][1])
        assert t.row(b"small") == {b"cf:a": b"1"}  # the same connection goes on
    finally:
        conn.close()


def test_the_asyncio_client_reads_it_too(url: str) -> None:
    host, port = url.removeprefix("hedgerow://").split(":")

    async def run() -> list:
        tr = AsyncSocketTransport(host, int(port), timeout_s=60)
        try:
            body = packb(m.GetRequest("t", b"big", ReadSpec()).to_wire())
            answer = await tr.call(int(MessageType.GET), body)
            return m.CellsResponse.from_wire(unpackb(answer)).cells
        finally:
            await tr.close()

    cells = asyncio.run(run())
    _check_big({b"cf:" + c.qualifier: c.value for c in cells})


def test_the_client_bounds_what_it_reassembles(url: str) -> None:
    conn = hedgerow.connect(url, timeout_s=60, max_answer_bytes=20 << 20)
    try:
        t = conn.table("t")
        with pytest.raises(AnswerTooLarge, match="over this client's max_answer_bytes of 20971520"):
            t.row(b"big")
        assert t.row(b"small") == {b"cf:a": b"1"}  # the connection goes on
    finally:
        conn.close()


def test_a_version_2_client_gets_an_error_for_that_request_only(url: str) -> None:
    host, port = url.removeprefix("hedgerow://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(encode_preamble(2))
        get = packb(m.GetRequest("t", b"big", ReadSpec()).to_wire())
        s.sendall(encode_frame(int(MessageType.GET), 0, 1, 0, get))
        s.sendall(encode_frame(int(MessageType.PING), 0, 2, 0, packb(b"x")))
        d = FrameDecoder(expect_preamble=True)
        frames = []
        while len(frames) < 2:
            data = s.recv(65536)
            assert data
            frames += d.feed(data)
        assert d.preamble is not None and d.preamble.version == 2
        by_id = {f.request_id: f for f in frames}
        assert by_id[1].flags == int(FrameFlag.RESPONSE | FrameFlag.ERROR)
        err = unpackb(by_id[1].body)
        assert err["code"] == "FRAME_TOO_LARGE" and "version 3" in err["message"]
        assert by_id[2].body == packb(b"x")
