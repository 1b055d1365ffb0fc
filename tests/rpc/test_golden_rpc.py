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
    # protocol version 2 (RFC 0001): a region-addressed get and REGIONS with servers
    addressed = m.GetRequest("t", b"row1", ReadSpec(), "0000000002")
    regions = m.RegionsResponse(
        (
            m.RegionInfo("t", "0000000002", b"", b"m", "127.0.0.1:16000"),
            m.RegionInfo("t", "0000000003", b"m", b"", "127.0.0.1:16000"),
        )
    )
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
        "get_request_region.hex": encode_frame(
            MessageType.GET, 0, 9, 250, packb(addressed.to_wire())
        ),
        "regions_response.hex": encode_frame(
            MessageType.REGIONS, int(FrameFlag.RESPONSE), 10, 0, packb(regions.to_wire())
        ),
    }


_TYPES = {"regions_response.hex": MessageType.REGIONS}


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
        assert frame.type == _TYPES.get(name, MessageType.GET)


def test_region_fields_round_trip_and_old_bodies_still_decode() -> None:
    """Version-2 bodies carry the optional region/server; version-1 bodies (one element
    shorter) decode with None."""
    from hedgerow.model.mutation import Put, RowMutation
    from hedgerow.model.read_spec import ScanRange

    mut = RowMutation(b"r", (Put(b"cf", b"q", b"v"),))
    for req in (
        m.IncrementRequest("t", b"r", {(b"cf", b"n"): 1}, None, "0000000002"),
        m.AppendRequest("t", b"r", {(b"cf", b"a"): b"x"}, None, "0000000002"),
        m.CheckAndMutateRequest("t", b"r", b"cf", b"q", "=", None, mut, None, "0000000002"),
        m.OpenScannerRequest("t", ScanRange(), ReadSpec(), 10, 1000, "0000000002"),
    ):
        wire = req.to_wire()
        assert type(req).from_wire(wire) == req
        old = type(req).from_wire(wire[:-1])
        assert old.region is None  # type: ignore[attr-defined]
    info = m.RegionsResponse((m.RegionInfo("t", "1", b"", b"", "h:1"),))
    assert m.RegionsResponse.from_wire(info.to_wire()) == info
    assert m.RegionsResponse.from_wire([["t", "1", b"", b""]]).regions[0].server is None
