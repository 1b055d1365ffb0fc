"""Issue 11, finding 5: a client that pipelines GETs and never reads pinned unbounded memory.

Before the fix the server started every request it had read (all 200 arrive in one
chunk; ``max_in_flight`` only paused later reads) and wrote every answer into the
transport's buffer, whatever its size. Checked on the old code (commit b7305ac, with the
default budget argument removed): the held bytes reached 205,724,704 (all 200 answers
of 1 MiB) and this test failed;
tests/integration/test_hostile_clients.py measured 2,156 MiB of RSS growth for one such
connection there. Now a connection holds at most about 2 x max(max_queued_response_bytes,
one answer) of unsent answers, and every request is still answered once the client reads.
"""

from __future__ import annotations

import socket
import time

from hedgerow.model.cell import Cell, KeyType
from hedgerow.model.read_spec import ReadSpec
from hedgerow.rpc import RpcServer
from hedgerow.rpc import messages as m
from hedgerow.rpc.codec import packb, unpackb
from hedgerow.rpc.framing import AnswerAssembler, FrameDecoder, encode_frame, encode_preamble
from hedgerow.rpc.operations import MessageType
from hedgerow.rpc.wire_format import FrameFlag

VALUE = b"v" * (1 << 20)
GETS = 200
BUDGET = 4 << 20  # max_queued_response_bytes for this server


class _BigCells:
    """A handler whose every row is one 1 MiB cell (shared: no copy per get)."""

    def get(self, table: str, row: bytes, spec: ReadSpec) -> list[Cell]:
        return [Cell(row, b"cf", b"q", 1, KeyType.PUT, VALUE, 1)]


def _held(server: RpcServer) -> int:
    """Answer bytes the server holds for its connections: transport buffers plus answers
    reserved while built."""
    return sum(
        (c.transport.get_write_buffer_size() if c.transport is not None else 0)
        + getattr(c, "reserved", 0)
        for c in list(server._connections.values())
    )


def test_unread_pipelined_gets_hold_bounded_bytes_and_all_are_answered() -> None:
    server = RpcServer(_BigCells(), max_queued_response_bytes=BUDGET)
    host, port = server.start_in_thread()
    sock = socket.create_connection((host, port), timeout=10)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.sendall(encode_preamble())
        body = packb(m.GetRequest("t", b"r", ReadSpec()).to_wire())
        sock.sendall(
            b"".join(encode_frame(int(MessageType.GET), 0, i + 1, 0, body) for i in range(GETS))
        )
        peak = 0
        end = time.monotonic() + 1.5
        while time.monotonic() < end:  # the client reads nothing meanwhile
            peak = max(peak, _held(server))
            time.sleep(0.01)
        assert peak > 0, "the server answered nothing"
        # two budgets (the transport's high-water mark and the reservations), each at
        # least one answer, plus one answer's overshoot; not 128 MiB
        assert peak <= 3 * max(BUDGET, len(VALUE) + 4096), peak

        # now read: every request is answered exactly once, with its whole cell
        decoder = FrameDecoder(expect_preamble=True)
        joiner = AnswerAssembler()
        answered: set[int] = set()
        end = time.monotonic() + 30
        while len(answered) < GETS and time.monotonic() < end:
            data = sock.recv(1 << 20)
            assert data, "server closed the connection"
            for f in decoder.feed(data):
                whole = joiner.add(f)
                if whole is None:
                    continue
                assert not isinstance(whole, Exception)
                assert whole.flags == int(FrameFlag.RESPONSE), unpackb(whole.body)
                (cell,) = m.CellsResponse.from_wire(unpackb(whole.body)).cells
                assert cell.value == VALUE
                assert whole.request_id not in answered
                answered.add(whole.request_id)
        assert answered == set(range(1, GETS + 1))
    finally:
        sock.close()
        server.stop()
