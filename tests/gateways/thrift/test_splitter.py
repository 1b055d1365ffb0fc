"""RequestSplitter: whole Thrift messages out of a byte stream cut anywhere, and its limits.

The messages are what thriftpy2's client writes for real Hbase calls (binary and
compact protocol, buffered and framed), so the walk is checked against the encoder
the gateway's clients use, not against itself.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest

from hedgerow.gateways.thrift import load_idl
from hedgerow.gateways.thrift.splitter import MAX_DEPTH, MessageError, Need, RequestSplitter

T = load_idl()
MODES = [(False, False), (True, False), (False, True), (True, True)]
MODE_IDS = ["buffered-binary", "framed-binary", "buffered-compact", "framed-compact"]


def encode(compact: bool, framed: bool, api: str, seqid: int = 0, **args: Any) -> bytes:
    """The bytes a thriftpy2 client sends for ``api(**args)``."""
    from thriftpy2.protocol.binary import TBinaryProtocolFactory  # the pure-Python encoder
    from thriftpy2.protocol.compact import TCompactProtocolFactory
    from thriftpy2.thrift import TClient
    from thriftpy2.transport.memory import TMemoryBuffer

    out = TMemoryBuffer()
    factory = TCompactProtocolFactory if compact else TBinaryProtocolFactory
    client = TClient(T.Hbase, factory(decode_response=False).get_protocol(out))
    client._seqid = seqid
    client._send(api, **args)
    msg: bytes = out.getvalue()
    return len(msg).to_bytes(4, "big") + msg if framed else msg


def requests(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """A mix of the calls happybase makes, with random sizes."""

    def blob(n: int) -> bytes:
        return bytes(rng.randrange(256) for _ in range(n))

    muts = [
        T.BatchMutation(
            row=blob(rng.randint(1, 20)),
            mutations=[
                T.Mutation(
                    isDelete=rng.random() < 0.2,
                    column=b"cf:" + blob(rng.randint(0, 8)),
                    value=blob(rng.randint(0, 300)),
                )
                for _ in range(rng.randint(0, 4))
            ],
        )
        for _ in range(rng.randint(0, 60))
    ]
    return [
        ("getTableNames", {}),
        ("mutateRows", {"tableName": b"t", "rowBatches": muts, "attributes": {b"k": b"v"}}),
        (
            "getRowsWithColumns",
            {
                "tableName": b"t",
                "rows": [blob(rng.randint(0, 30)) for _ in range(rng.randint(0, 50))],
                "columns": [b"cf:a", b"cf"],
                "attributes": {},
            },
        ),
        (
            "scannerOpenWithScan",
            {
                "tableName": b"t",
                "scan": T.TScan(
                    startRow=blob(5),
                    stopRow=None,
                    timestamp=rng.randint(0, 2**62),
                    columns=[b"cf"],
                    caching=1000,
                    filterString=b"PrefixFilter('a')",
                    sortColumns=True,
                    reversed=False,
                ),
                "attributes": {},
            },
        ),
        ("scannerGetList", {"id": rng.randint(0, 2**31 - 1), "nbRows": 1000}),
        (
            "atomicIncrement",
            {"tableName": b"t", "row": b"r", "column": b"cf:n", "value": -rng.randint(0, 2**62)},
        ),
        (
            "createTable",
            {
                "tableName": b"t",
                "columnFamilies": [T.ColumnDescriptor(name=b"cf:", maxVersions=3, timeToLive=-1)],
            },
        ),
        ("mutateRow", {"tableName": b"t", "row": b"r", "mutations": [], "attributes": {}}),
    ]


def split_all(s: RequestSplitter, data: bytes, rng: random.Random) -> list[bytes]:
    """Feed ``data`` in random chunks; every message the splitter hands out."""
    got: list[bytes] = []
    i = 0
    for _ in range(10 * len(data) + 100):  # bounded: each turn feeds or takes something
        r = s.next_message()
        if isinstance(r, bytes):
            got.append(r)
            continue
        if r is Need.TURN:
            continue
        if i >= len(data):
            return got
        k = rng.choice([1, 2, 3, 7, 64, 1000, 70000])
        s.feed(data[i : i + k])
        i += k
    raise AssertionError("the splitter made no progress")


@pytest.mark.parametrize(("framed", "compact"), MODES, ids=MODE_IDS)
@pytest.mark.parametrize("seed", range(4))
def test_messages_cut_anywhere_and_pipelined_come_out_whole(
    framed: bool, compact: bool, seed: int
) -> None:
    rng = random.Random(seed)
    msgs = [
        encode(compact, framed, api, seqid, **args)
        for seqid, (api, args) in enumerate(requests(rng))
    ]
    rng.shuffle(msgs)
    s = RequestSplitter(
        framed=framed, compact=compact, max_message_bytes=1 << 20, step_budget=rng.choice([7, 50])
    )
    got = split_all(s, b"".join(msgs), rng)
    assert got == [m[4:] if framed else m for m in msgs]
    assert s.buffered == 0


@pytest.mark.parametrize(("framed", "compact"), MODES, ids=MODE_IDS)
def test_a_big_request_yields_turns(framed: bool, compact: bool) -> None:
    muts = [
        T.BatchMutation(row=b"r%d" % i, mutations=[T.Mutation(column=b"cf:a")]) for i in range(500)
    ]
    msg = encode(compact, framed, "mutateRows", tableName=b"t", rowBatches=muts, attributes={})
    s = RequestSplitter(framed=framed, compact=compact, max_message_bytes=1 << 20, step_budget=100)
    s.feed(msg[:-1])
    turns = 0
    while (r := s.next_message()) is Need.TURN:
        turns += 1
    assert r is Need.DATA and turns >= 10
    s.feed(msg[-1:])
    while (r := s.next_message()) is Need.TURN:
        pass
    assert r == (msg[4:] if framed else msg)
    assert s.method == "mutateRows"


def _limit_error(s: RequestSplitter, data: bytes) -> MessageError:
    s.feed(data)
    with pytest.raises(MessageError) as ei:
        for _ in range(1000):
            assert s.next_message() is not Need.DATA, "waited for bytes it should refuse"
    return ei.value


@pytest.mark.parametrize(("framed", "compact"), MODES, ids=MODE_IDS)
def test_a_declared_length_past_max_message_bytes_is_refused_before_it_arrives(
    framed: bool, compact: bool
) -> None:
    msg = encode(
        compact,
        framed,
        "mutateRow",
        seqid=7,
        tableName=b"t",
        row=b"r",
        mutations=[T.Mutation(column=b"cf:a", value=b"v" * 5000)],
        attributes={},
    )
    s = RequestSplitter(framed=framed, compact=compact, max_message_bytes=4096)
    # only the first 100 bytes: the value's length is already known to be too much
    e = _limit_error(s, msg[:100])
    assert e.limit == "max_message_bytes"
    assert "max_message_bytes=4096" in str(e)
    if not framed:  # framed: refused on the frame length, before the header
        assert (e.method, e.seqid) == ("mutateRow", 7)


@pytest.mark.parametrize(("framed", "compact"), MODES, ids=MODE_IDS)
def test_too_many_values_is_refused(framed: bool, compact: bool) -> None:
    rows = [b"r%d" % i for i in range(300)]
    msg = encode(compact, framed, "getRows", seqid=3, tableName=b"t", rows=rows, attributes={})
    s = RequestSplitter(framed=framed, compact=compact, max_message_bytes=1 << 20)
    assert s.max_message_values > 300
    s.feed(msg)
    assert s.next_message() == (msg[4:] if framed else msg)
    s = RequestSplitter(
        framed=framed, compact=compact, max_message_bytes=1 << 20, max_message_values=200
    )
    e = _limit_error(s, msg)
    assert e.limit == "max_message_values" and "200" in str(e)
    assert (e.method, e.seqid) == ("getRows", 3)


def test_a_huge_fixed_size_list_is_refused_from_its_header() -> None:
    # getRows with a list claiming 2**31-1 strings, then nothing: refused on the count
    head = bytes.fromhex("80010001") + struct.pack("!i", 7) + b"getRows" + struct.pack("!i", 1)
    args = b"\x0b\x00\x01" + struct.pack("!i", 1) + b"t" + b"\x0f\x00\x02\x0b" + b"\x7f\xff\xff\xff"
    s = RequestSplitter(framed=False, compact=False, max_message_bytes=1 << 20)
    e = _limit_error(s, head + args)
    assert e.limit == "max_message_bytes"


def _binary(name: bytes, args: bytes) -> bytes:
    return bytes.fromhex("80010001") + struct.pack("!i", len(name)) + name + bytes(4) + args


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"GET / HTTP/1.1\r\n\r\n", "no version header"),
        (b"\x00" * 64, "no version header"),
        (bytes.fromhex("80020001") + bytes(8), "version header"),
        (bytes.fromhex("80010001 7fffffff"), "method name of"),
        (_binary(b"ping", b"\x11\x00\x01"), "unknown binary-protocol type 17"),
        (_binary(b"ping", b"\x0b\x00\x01\xff\xff\xff\xff"), "negative string length"),
        (_binary(b"ping", b"\x0f\x00\x01\x0b\xff\xff\xff\xfe"), "bad list header"),
        (_binary(b"ping", b"\x0c\x00\x01" * (MAX_DEPTH + 2)), "deeper than"),
    ],
)
def test_malformed_binary_streams_are_refused(data: bytes, match: str) -> None:
    s = RequestSplitter(framed=False, compact=False, max_message_bytes=1 << 20)
    with pytest.raises(MessageError, match=match) as ei:
        s.feed(data)
        for _ in range(100):
            assert s.next_message() is not Need.DATA
    assert ei.value.limit is None


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\x80\x01\x00\x00", "not a compact-protocol message"),
        (b"\x82\x22\x00\x04ping\x00", "bad compact-protocol version"),
        (b"\x82\x21" + b"\xff" * 11, "varint longer"),
        (b"\x82\x21\x00\x04ping\x1d", "unknown compact-protocol type 13"),
    ],
)
def test_malformed_compact_streams_are_refused(data: bytes, match: str) -> None:
    s = RequestSplitter(framed=False, compact=True, max_message_bytes=1 << 20)
    with pytest.raises(MessageError, match=match):
        s.feed(data)
        for _ in range(100):
            assert s.next_message() is not Need.DATA


def test_framed_message_must_fill_its_frame() -> None:
    msg = encode(False, False, "getTableNames")
    s = RequestSplitter(framed=True, compact=False, max_message_bytes=1 << 20)
    s.feed(struct.pack("!i", len(msg) + 3) + msg + b"xyz")
    with pytest.raises(MessageError, match="frame of"):
        s.next_message()
    s = RequestSplitter(framed=True, compact=False, max_message_bytes=1 << 20)
    s.feed(struct.pack("!i", -5))
    with pytest.raises(MessageError, match="negative frame length"):
        s.next_message()
