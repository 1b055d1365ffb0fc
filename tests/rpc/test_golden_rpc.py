"""Golden bytes of one request frame and one response frame (docs/formats/rpc.md example).

A diff here is a wire-format change: it needs the doc, a version bump or an RFC.
Regenerate deliberately with ``HEDGEROW_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hedgerow.model.cell import Cell, KeyType
from hedgerow.model.read_spec import ReadSpec
from hedgerow.rpc import messages as m
from hedgerow.rpc.codec import packb
from hedgerow.rpc.framing import FrameDecoder, encode_frame, encode_preamble
from hedgerow.rpc.wire_format import FrameFlag, MessageType

GOLDEN = Path(__file__).parent.parent / "golden" / "rpc"
UPDATE = os.environ.get("HEDGEROW_UPDATE_GOLDEN", "") not in ("", "0")


def _cases() -> dict[str, bytes]:
    req = m.GetRequest("t", b"row1", ReadSpec())
    resp = m.CellsResponse([Cell(b"row1", b"cf", "q\u00e9".encode(), 1000, KeyType.PUT, b"", 0)])
    return {
        "preamble.hex": encode_preamble(),
        "get_request.hex": encode_frame(MessageType.GET, 0, 7, 250, packb(req.to_wire())),
        "get_response.hex": encode_frame(
            MessageType.GET, int(FrameFlag.RESPONSE), 7, 0, packb(resp.to_wire())
        ),
        "error_response.hex": encode_frame(
            MessageType.GET,
            int(FrameFlag.RESPONSE | FrameFlag.ERROR),
            8,
            0,
            packb({"code": "TABLE_NOT_FOUND", "message": "table 'x' does not exist", "fields": {}}),
        ),
    }


def _hex(data: bytes) -> str:
    return "\n".join(data[i : i + 16].hex(" ") for i in range(0, len(data), 16)) + "\n"


@pytest.mark.parametrize("name", sorted(_cases()))
def test_golden(name: str) -> None:
    data = _cases()[name]
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(_hex(data))
    assert bytes.fromhex(path.read_text().replace("\n", " ")) == data
    if name != "preamble.hex":
        (frame,) = FrameDecoder(expect_preamble=False).feed(data)
        assert frame.type == MessageType.GET
