"""Incremental decoder of the RPC byte stream: the peer's preamble, then frames.

Role: the server's connection protocol and both client transports feed it the
bytes they receive; it returns complete ``Frame``s.  ``encode_frame`` and
``encode_preamble`` are the matching encoders; ``encode_answer`` splits a long
answer into pieces (version 3, ``FrameFlag.MORE``) and ``AnswerAssembler`` joins
them again on the client, up to its ``max_answer_bytes``.
Format: docs/formats/rpc.md (authoritative); constants in ``wire_format``.
Invariants: ``feed`` either returns frames or raises a ``ProtocolError``
subclass (UnsupportedVersion, FrameTooLarge, ProtocolError) and nothing else;
after an error the decoder is poisoned and every later ``feed`` raises the
same error (the stream has lost its frame boundary).  Memory held is bounded
by ``max_frame_bytes`` plus one ``feed`` chunk.
Concurrency: not thread-safe; one decoder per connection direction.
Hot path: ``feed`` (every received chunk); bench/bench_rpc.py measures it.
"""

from __future__ import annotations

from typing import NamedTuple

from hedgerow.rpc.codes import AnswerTooLarge, FrameTooLarge, ProtocolError, UnsupportedVersion
from hedgerow.rpc.wire_format import (
    DEFAULT_MAX_ANSWER_BYTES,
    DEFAULT_MAX_FRAME_BYTES,
    FRAME_HEADER,
    HEADER_SIZE,
    KNOWN_FRAME_FLAGS,
    MAGIC,
    MIN_PROTOCOL_VERSION,
    PIECE_BYTES,
    PIECES_VERSION,
    PREAMBLE,
    PREAMBLE_SIZE,
    PROTOCOL_VERSION,
    FrameFlag,
)

__all__ = [
    "AnswerAssembler",
    "Frame",
    "FrameDecoder",
    "Preamble",
    "encode_answer",
    "encode_frame",
    "encode_preamble",
]

_pack_header = FRAME_HEADER.pack
_ERROR = int(FrameFlag.ERROR)  # type 0 is valid only on a connection-level error frame
_RESPONSE = int(FrameFlag.RESPONSE)
_MORE = int(FrameFlag.MORE)
_unpack_header = FRAME_HEADER.unpack_from


class Frame(NamedTuple):
    """One decoded frame; ``type`` is the raw u8 (it may name no known MessageType)."""

    type: int
    flags: int
    request_id: int
    timeout_ms: int
    body: bytes


class Preamble(NamedTuple):
    magic: bytes
    version: int
    flags: int


def encode_preamble(version: int = PROTOCOL_VERSION, flags: int = 0) -> bytes:
    """The 8 bytes each end sends first."""
    return PREAMBLE.pack(MAGIC, version, flags)


def encode_frame(msg_type: int, flags: int, request_id: int, timeout_ms: int, body: bytes) -> bytes:
    """Header + body as one bytes object (one ``send`` per frame)."""
    return _pack_header(len(body), msg_type, flags, 0, request_id, timeout_ms) + body


def encode_answer(
    msg_type: int,
    request_id: int,
    body: bytes,
    *,
    version: int,
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    piece_bytes: int = PIECE_BYTES,
) -> list[bytes | memoryview]:
    """The buffers of one (non-error) answer, to be written in order.

    On a version-3 connection a body longer than ``piece_bytes`` is split into
    pieces (every frame but the last flagged MORE; slices of ``body``, not copies).
    On older connections an answer that does not fit ``max_frame_bytes`` raises
    FrameTooLarge (the caller answers with that error instead).

    >>> [bytes(b) for b in encode_answer(30, 7, b"abc", version=3, piece_bytes=2)]
    [b'\\x00\\x00\\x00\\x02\\x1e\\x05\\x00\\x00\\x00\\x00\\x00\\x07\\x00\\x00\\x00\\x00', b'ab', \
b'\\x00\\x00\\x00\\x01\\x1e\\x01\\x00\\x00\\x00\\x00\\x00\\x07\\x00\\x00\\x00\\x00', b'c']
    """
    n = len(body)
    if version < PIECES_VERSION or n <= piece_bytes:
        if n + HEADER_SIZE > max_frame_bytes:
            raise FrameTooLarge(
                f"answer of {n + HEADER_SIZE} bytes to request {request_id} exceeds the "
                f"maximum frame size of {max_frame_bytes} bytes; a protocol version "
                f"{PIECES_VERSION} client receives long answers in pieces"
            )
        return [_pack_header(n, msg_type, _RESPONSE, 0, request_id, 0), body]
    view = memoryview(body)
    out: list[bytes | memoryview] = []
    for start in range(0, n, piece_bytes):
        piece = view[start : start + piece_bytes]
        flags = _RESPONSE if start + piece_bytes >= n else _RESPONSE | _MORE
        out.append(_pack_header(len(piece), msg_type, flags, 0, request_id, 0))
        out.append(piece)
    return out


class AnswerAssembler:
    """Joins answers sent in pieces (``FrameFlag.MORE``) back into whole frames.

    ``add(frame)`` returns the frame itself for a whole answer, None for a piece
    that is not the last, and for the last piece the joined frame, or an
    AnswerTooLarge error when the pieces passed ``max_answer_bytes`` (pieces past
    the bound are dropped as they come, so memory stays bounded).

    >>> a = AnswerAssembler(max_answer_bytes=4)
    >>> a.add(Frame(30, 5, 7, 0, b"ab")), a.add(Frame(30, 1, 7, 0, b"c"))
    (None, Frame(type=30, flags=1, request_id=7, timeout_ms=0, body=b'abc'))
    >>> a.add(Frame(30, 5, 8, 0, b"abc")), a.add(Frame(30, 1, 8, 0, b"de"))
    (None, AnswerTooLarge("answer to request 8 is 5 bytes, over this client's max_answer_bytes of 4"))
    """

    def __init__(self, max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES) -> None:
        # constant after __init__
        self.max_answer_bytes = max_answer_bytes
        # mutable state (single owner): request id -> pieces so far (None once too
        # large) and their total size
        self._parts: dict[int, list[bytes] | None] = {}
        self._sizes: dict[int, int] = {}

    @property
    def pending(self) -> int:
        """Answers begun and not finished."""
        return len(self._sizes)

    def add(self, f: Frame) -> Frame | AnswerTooLarge | None:
        rid = f.request_id
        if not f.flags & _MORE and rid not in self._sizes:
            return f  # fast path: a whole answer
        size = self._sizes.get(rid, 0) + len(f.body)
        parts = self._parts.get(rid, [])
        if parts is not None and size > self.max_answer_bytes:
            parts = None  # too large: drop what came and what comes
        elif parts is not None:
            parts.append(f.body)
        if f.flags & _MORE:
            self._parts[rid] = parts
            self._sizes[rid] = size
            return None
        self._parts.pop(rid, None)
        self._sizes.pop(rid, None)
        if parts is None:
            return AnswerTooLarge(
                f"answer to request {rid} is {size} bytes, over this client's "
                f"max_answer_bytes of {self.max_answer_bytes}"
            )
        return Frame(f.type, f.flags, rid, f.timeout_ms, b"".join(parts))

    def drop(self, request_id: int) -> None:
        """Forget a partly received answer nobody waits for any more."""
        self._parts.pop(request_id, None)
        self._sizes.pop(request_id, None)


class FrameDecoder:
    """``feed(bytes) -> list[Frame]``, validating the peer's preamble first.

    REQUIRES: ``expect_preamble`` matches the stream (True for a fresh connection).
    ``accepted_flags`` are the preamble flag bits this end understands; others are
    refused with UnsupportedVersion.

    >>> d = FrameDecoder()
    >>> d.feed(encode_preamble() + encode_frame(1, 0, 7, 0, b"\\xc0"))
    [Frame(type=1, flags=0, request_id=7, timeout_ms=0, body=b'\\xc0')]
    """

    def __init__(
        self,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        *,
        expect_preamble: bool = True,
        accepted_flags: int = 0,
    ) -> None:
        # constant after __init__
        self.max_frame_bytes = max_frame_bytes
        self.accepted_flags = accepted_flags
        # mutable state (single owner)
        self._buf = bytearray()
        self._need_preamble = expect_preamble
        self._error: ProtocolError | None = None
        #: the peer's preamble once received
        self.preamble: Preamble | None = None
        #: request id of the frame that failed (0 if unknown), for the error reply
        self.failed_request_id = 0

    @property
    def buffered(self) -> int:
        """Bytes received but not yet returned as frames."""
        return len(self._buf)

    def _fail(self, exc: ProtocolError) -> ProtocolError:
        self._error = exc
        self._buf.clear()
        return exc

    def feed(self, data: bytes | bytearray | memoryview) -> list[Frame]:
        """Append ``data``; return every frame now complete, in order."""
        if self._error is not None:
            raise self._error
        buf = self._buf
        buf += data
        if self._need_preamble:
            if len(buf) < PREAMBLE_SIZE:
                if not MAGIC.startswith(bytes(buf[:4])):
                    raise self._fail(
                        ProtocolError(f"bad magic {bytes(buf[:4])!r}, expected {MAGIC!r}")
                    )
                return []
            magic, version, flags = PREAMBLE.unpack_from(buf, 0)
            if magic != MAGIC:
                raise self._fail(ProtocolError(f"bad magic {magic!r}, expected {MAGIC!r}"))
            if not MIN_PROTOCOL_VERSION <= version <= PROTOCOL_VERSION:
                raise self._fail(
                    UnsupportedVersion(
                        f"peer speaks RPC protocol version {version}; this end speaks "
                        f"versions {MIN_PROTOCOL_VERSION} to {PROTOCOL_VERSION}"
                    )
                )
            if flags & ~self.accepted_flags:
                raise self._fail(
                    UnsupportedVersion(
                        f"peer asked for preamble flags {flags:#06x}; "
                        f"this end supports {self.accepted_flags:#06x}"
                    )
                )
            self.preamble = Preamble(magic, version, flags)
            self._need_preamble = False
            del buf[:PREAMBLE_SIZE]
        frames: list[Frame] = []
        pos = 0
        n = len(buf)
        limit = self.max_frame_bytes
        while n - pos >= HEADER_SIZE:
            body_len, msg_type, flags, reserved, request_id, timeout_ms = _unpack_header(buf, pos)
            if body_len + HEADER_SIZE > limit:
                self.failed_request_id = request_id
                raise self._fail(
                    FrameTooLarge(
                        f"frame of {body_len + HEADER_SIZE} bytes (request {request_id}) "
                        f"exceeds the maximum frame size of {limit} bytes"
                    )
                )
            if (
                reserved != 0
                or flags & ~KNOWN_FRAME_FLAGS
                or (msg_type == 0 and not flags & _ERROR)
                or (flags & _MORE and (not flags & _RESPONSE or flags & _ERROR))
            ):
                self.failed_request_id = request_id
                raise self._fail(
                    ProtocolError(
                        f"malformed frame header at stream offset {pos}: type={msg_type} "
                        f"flags={flags:#04x} reserved={reserved:#06x}"
                    )
                )
            end = pos + HEADER_SIZE + body_len
            if end > n:
                break
            frames.append(
                Frame(msg_type, flags, request_id, timeout_ms, bytes(buf[pos + HEADER_SIZE : end]))
            )
            pos = end
        if pos:
            del buf[:pos]
        return frames
