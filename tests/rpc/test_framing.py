"""Frame decoder: valid streams in any chunking, and the fuzz test (default suite)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedgerow.rpc.codes import FrameTooLarge, ProtocolError, UnsupportedVersion
from hedgerow.rpc.framing import Frame, FrameDecoder, encode_frame, encode_preamble
from hedgerow.rpc.wire_format import (
    HEADER_SIZE,
    MAGIC,
    MIN_PROTOCOL_VERSION,
    PROTOCOL_VERSION,
    FrameFlag,
)

FRAMES = [
    Frame(30, 0, 1, 500, b"\x93\xa1t\xc4\x01r\xc0"),
    Frame(30, int(FrameFlag.RESPONSE), 1, 0, b"\x90"),
    Frame(1, 0, 0xFFFFFFFF, 0, b""),
]
STREAM = encode_preamble() + b"".join(
    encode_frame(f.type, f.flags, f.request_id, f.timeout_ms, f.body) for f in FRAMES
)


def test_decodes_whole_stream() -> None:
    d = FrameDecoder()
    assert d.feed(STREAM) == FRAMES
    assert d.preamble is not None and d.preamble.version == PROTOCOL_VERSION == 3
    assert d.buffered == 0


@given(st.lists(st.integers(1, len(STREAM)), max_size=20))
def test_any_chunking_gives_same_frames(cuts: list[int]) -> None:
    d = FrameDecoder()
    got: list[Frame] = []
    prev = 0
    for c in sorted(set(cuts)) + [len(STREAM)]:
        got += d.feed(STREAM[prev:c])
        prev = c
    assert got == FRAMES


def test_bad_magic() -> None:
    with pytest.raises(ProtocolError, match="bad magic"):
        FrameDecoder().feed(b"GET / HTTP/1.1\r\n")
    with pytest.raises(ProtocolError, match="bad magic"):
        FrameDecoder().feed(b"HX")  # detected before 8 bytes arrive


def test_unknown_version_names_both_versions() -> None:
    with pytest.raises(UnsupportedVersion, match="version 7.*versions 1 to 3"):
        FrameDecoder().feed(struct.pack(">4sHH", MAGIC, 7, 0))
    with pytest.raises(UnsupportedVersion, match="version 0"):
        FrameDecoder().feed(struct.pack(">4sHH", MAGIC, 0, 0))


def test_every_version_from_the_oldest_is_accepted() -> None:
    for v in range(MIN_PROTOCOL_VERSION, PROTOCOL_VERSION + 1):
        d = FrameDecoder()
        d.feed(encode_preamble(v))
        assert d.preamble is not None and d.preamble.version == v


def test_unknown_handshake_flags_refused() -> None:
    with pytest.raises(UnsupportedVersion, match="flags"):
        FrameDecoder().feed(encode_preamble(flags=2))


def test_oversized_frame_names_sizes_and_poisons() -> None:
    d = FrameDecoder(max_frame_bytes=100)
    with pytest.raises(FrameTooLarge, match="exceeds the maximum frame size of 100"):
        d.feed(encode_preamble() + encode_frame(30, 0, 9, 0, b"x" * 200)[:20])
    assert d.failed_request_id == 9
    with pytest.raises(FrameTooLarge):
        d.feed(b"")


def test_bad_header_fields() -> None:
    for hdr in [
        struct.pack(">IBBHII", 0, 30, 0, 1, 1, 0),  # reserved != 0
        struct.pack(">IBBHII", 0, 30, 0x80, 0, 1, 0),  # unknown flag
        struct.pack(">IBBHII", 0, 0, 0, 0, 1, 0),  # type 0
    ]:
        with pytest.raises(ProtocolError, match="malformed frame header"):
            FrameDecoder().feed(encode_preamble() + hdr)


def _only_documented_errors(d: FrameDecoder, chunks: list[bytes]) -> None:
    total = 0
    for c in chunks:
        try:
            frames = d.feed(c)
        except ProtocolError:  # the documented error family (incl. subclasses)
            return
        for f in frames:
            total += HEADER_SIZE + len(f.body)
            assert len(f.body) + HEADER_SIZE <= d.max_frame_bytes
    assert d.buffered <= d.max_frame_bytes + max((len(c) for c in chunks), default=0)


_FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FUZZ
@given(st.lists(st.binary(max_size=64), max_size=8), st.booleans())
def test_fuzz_random_bytes(chunks: list[bytes], with_preamble: bool) -> None:
    if with_preamble:
        chunks = [encode_preamble(), *chunks]
    _only_documented_errors(FrameDecoder(max_frame_bytes=4096), chunks)


@_FUZZ
@given(
    st.lists(st.tuples(st.integers(0, len(STREAM) - 1), st.integers(0, 255)), max_size=6),
    st.integers(0, len(STREAM)),
    st.integers(1, len(STREAM)),
)
def test_fuzz_mutated_valid_stream(flips: list[tuple[int, int]], cut: int, chunk: int) -> None:
    data = bytearray(STREAM)
    for pos, val in flips:
        data[pos] = val
    data = data[: max(cut, 8)] if cut < len(STREAM) else data
    chunks = [bytes(data[i : i + chunk]) for i in range(0, len(data), chunk)]
    _only_documented_errors(FrameDecoder(max_frame_bytes=4096), chunks)
