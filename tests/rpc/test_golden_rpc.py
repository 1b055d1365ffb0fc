"""Golden bytes of request and response frames (docs/formats/rpc.md examples).

A diff here is a wire-format change: it needs the doc, a version bump or an RFC.
Regenerate deliberately with ``HEDGEROW_UPDATE_GOLDEN=1``. Every frame is also decoded
again: its header must carry the case's type and flags, and its body must decode to the
message it was encoded from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hedgerow.model.cell import Cell, KeyType
from hedgerow.model.durability import Durability
from hedgerow.model.mutation import DeleteColumn, Put, RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.rpc import messages as m
from hedgerow.rpc.codec import packb, unpackb
from hedgerow.rpc.framing import (
    AnswerAssembler,
    FrameDecoder,
    encode_answer,
    encode_frame,
    encode_preamble,
)
from hedgerow.rpc.operations import MessageType
from hedgerow.rpc.wire_format import FrameFlag

GOLDEN = Path(__file__).parent.parent / "golden" / "rpc"
UPDATE = os.environ.get("HEDGEROW_UPDATE_GOLDEN", "") not in ("", "0")

_RESPONSE = int(FrameFlag.RESPONSE)
_ERROR = int(FrameFlag.RESPONSE | FrameFlag.ERROR)
#: the region a version-2 client names in the goldens of RFC 0001's requests
_REGION = "0000000002"


@dataclass(frozen=True)
class _Case:
    type: MessageType
    flags: int
    request_id: int
    timeout_ms: int
    message: Any  # an rpc.messages object (its from_wire must give it back), or a raw body

    def frame(self) -> bytes:
        body = self.message.to_wire() if hasattr(self.message, "to_wire") else self.message
        return encode_frame(self.type, self.flags, self.request_id, self.timeout_ms, packb(body))


def _cases() -> dict[str, _Case]:
    spec = ReadSpec()
    req = m.GetRequest("t", b"row1", spec)
    resp = m.CellsResponse([Cell(b"row1", b"cf", "q\u00e9".encode(), 1000, KeyType.PUT, b"", 0)])
    # protocol version 2 (RFC 0001): every data request may name its region, and REGIONS
    # names each region's server
    regions = m.RegionsResponse(
        (
            m.RegionInfo("t", "0000000002", b"", b"m", "127.0.0.1:16000"),
            m.RegionInfo("t", "0000000003", b"m", b"", "127.0.0.1:16000"),
        )
    )
    # an empty value and a tombstone in one region-addressed batch
    batch = (
        RowMutation(b"a", (Put(b"cf", b"q", b""),)),
        RowMutation(b"b", (DeleteColumn(b"cf", b"q"),)),
    )
    guarded = RowMutation(b"a", (Put(b"cf", b"q", b"1"),))
    reverse = ScanRange(None, True, None, False, True)  # a reverse scan from the table's end
    return {
        "get_request.hex": _Case(MessageType.GET, 0, 7, 250, req),
        "get_response.hex": _Case(MessageType.GET, _RESPONSE, 7, 0, resp),
        "error_response.hex": _Case(
            MessageType.GET,
            _ERROR,
            8,
            0,
            {"code": "TABLE_NOT_FOUND", "message": "table 'x' does not exist", "fields": {}},
        ),
        "get_request_region.hex": _Case(
            MessageType.GET, 0, 9, 250, m.GetRequest("t", b"row1", spec, _REGION)
        ),
        "regions_response.hex": _Case(MessageType.REGIONS, _RESPONSE, 10, 0, regions),
        "multi_get_request_region.hex": _Case(
            MessageType.MULTI_GET, 0, 11, 250, m.MultiGetRequest("t", (b"a", b"b"), spec, _REGION)
        ),
        "mutate_request_region.hex": _Case(
            MessageType.MUTATE, 0, 12, 250, m.MutateRequest("t", batch, None, _REGION)
        ),
        "increment_request_region.hex": _Case(
            MessageType.INCREMENT,
            0,
            13,
            250,
            m.IncrementRequest("t", b"a", {(b"cf", b"n"): 1}, None, _REGION),
        ),
        "append_request_region.hex": _Case(
            MessageType.APPEND,
            0,
            14,
            250,
            m.AppendRequest(
                "t", b"a", {(b"cf", "q\u00e9".encode()): b"x"}, int(Durability.SYNC_WAL), _REGION
            ),
        ),
        "check_and_mutate_request_region.hex": _Case(
            MessageType.CHECK_AND_MUTATE,
            0,
            15,
            250,
            m.CheckAndMutateRequest("t", b"a", b"cf", b"q", "=", None, guarded, None, _REGION),
        ),
        "open_scanner_request_region.hex": _Case(
            MessageType.OPEN_SCANNER,
            0,
            16,
            250,
            m.OpenScannerRequest("t", reverse, spec, 100, 1 << 20, "0000000003"),
        ),
    }


def _hex(data: bytes) -> str:
    return "\n".join(data[i : i + 16].hex(" ") for i in range(0, len(data), 16)) + "\n"


def _golden(name: str, data: bytes) -> bytes:
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(_hex(data))
    return bytes.fromhex(path.read_text().replace("\n", " "))


def test_preamble_golden() -> None:
    assert _golden("preamble.hex", encode_preamble()) == encode_preamble()


@pytest.mark.parametrize("name", sorted(_cases()))
def test_golden(name: str) -> None:
    case = _cases()[name]
    data = case.frame()
    assert _golden(name, data) == data
    (frame,) = FrameDecoder(expect_preamble=False).feed(data)
    assert (frame.type, frame.flags, frame.request_id) == (
        case.type,
        case.flags,
        case.request_id,
    )
    body = unpackb(frame.body)
    if hasattr(case.message, "to_wire"):
        assert type(case.message).from_wire(body) == case.message
    else:
        assert body == case.message


def test_answer_in_pieces_golden() -> None:
    """Version 3 (issue 11, finding 7): the GET answer of get_response.hex in pieces of
    10 body bytes (MORE on all but the last); joined again, it is the same answer."""
    case = _cases()["get_response.hex"]
    body = packb(case.message.to_wire())
    data = b"".join(encode_answer(MessageType.GET, 7, body, version=3, piece_bytes=10))
    assert _golden("get_response_pieces.hex", data) == data
    frames = FrameDecoder(expect_preamble=False).feed(data)
    more = int(FrameFlag.RESPONSE | FrameFlag.MORE)
    assert [(f.flags, len(f.body)) for f in frames] == [(more, 10), (more, 10), (_RESPONSE, 4)]
    a = AnswerAssembler()
    joined = [a.add(f) for f in frames]
    assert joined[:2] == [None, None] and joined[2] is not None
    assert joined[2] == frames[2]._replace(body=body)
    # a version-2 connection gets the answer whole
    assert b"".join(encode_answer(MessageType.GET, 7, body, version=2, piece_bytes=10)) == (
        case.frame()
    )


def test_every_golden_file_is_checked() -> None:
    """A golden file no case writes would silently stop being checked."""
    on_disk = {p.name for p in GOLDEN.glob("*.hex")}
    assert on_disk == set(_cases()) | {"preamble.hex", "get_response_pieces.hex"}


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
