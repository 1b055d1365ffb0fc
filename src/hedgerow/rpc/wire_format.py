"""RPC wire constants: preamble, frame header, message types, flags, limits.

Role: imported by framing (decoder), the server and the transports (encoders);
nothing else lives here (leveldb's log_format.h habit).
Format: docs/formats/rpc.md (authoritative). Summary, all integers big-endian::

    preamble := magic:"HRPC" version:u16 flags:u16                (8 bytes, each way)
    frame    := body_len:u32 type:u8 flags:u8 reserved:u16(=0)
                request_id:u32 timeout_ms:u32 body:msgpack[body_len]  (16-byte header)
    answer   := frame(RESPONSE|MORE)* frame(RESPONSE)   (version 3: an answer's body
                may come in pieces, concatenated in order; see FrameFlag.MORE)

Invariants: ``MessageType`` and ``OpTag`` values are on the wire: never renumber,
never reuse a retired number.
Concurrency: constants only.
"""

from __future__ import annotations

import struct
from enum import IntEnum, IntFlag

__all__ = [
    "DEFAULT_MAX_ANSWER_BYTES",
    "DEFAULT_MAX_FRAME_BYTES",
    "FRAME_HEADER",
    "HEADER_SIZE",
    "KNOWN_FRAME_FLAGS",
    "MAGIC",
    "MAX_REQUEST_ID",
    "PIECE_BYTES",
    "PIECES_VERSION",
    "PREAMBLE",
    "PREAMBLE_SIZE",
    "MIN_PROTOCOL_VERSION",
    "PROTOCOL_VERSION",
    "FrameFlag",
    "HandshakeFlag",
    "OpTag",
]

#: Connection preamble magic: ASCII "HRPC" (Hedgerow RPC), chosen to be readable in a
#: packet dump and distinct from HBase's "HBas" RPC preamble and from "HTTP"/TLS
#: ClientHello (0x16 0x03), so a wrong client on the port is recognised at once.
MAGIC = b"HRPC"
#: The newest protocol version this end speaks, sent in its preamble. Version 2 (RFC 0001)
#: added the optional region and server fields; a server answers a client's preamble
#: with the lower of the two versions, and the client addresses regions only when that
#: is 2 or more. Version 3 (issue 11, finding 7) lets an answer travel in pieces
#: (FrameFlag.MORE), so an answer larger than any frame can still be read. A peer
#: outside MIN_PROTOCOL_VERSION..PROTOCOL_VERSION gets an UNSUPPORTED_VERSION error
#: frame and the connection is closed.
PROTOCOL_VERSION = 3
#: The first version whose answers may come in pieces.
PIECES_VERSION = 3
#: The oldest version still spoken (version-1 clients are served as before).
MIN_PROTOCOL_VERSION = 1

#: magic:4s version:u16 flags:u16
PREAMBLE = struct.Struct(">4sHH")
PREAMBLE_SIZE = PREAMBLE.size  # 8

#: body_len:u32 type:u8 flags:u8 reserved:u16 request_id:u32 timeout_ms:u32
FRAME_HEADER = struct.Struct(">IBBHII")
HEADER_SIZE = FRAME_HEADER.size  # 16

#: Largest frame (header + body) either end accepts by default: 64 MiB holds a
#: batch of several maximum-size (10 MiB) cells.  Configurable per server/transport.
DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024
#: Version 3: an answer whose body is longer than this travels in pieces of at most
#: this many body bytes (so no frame a version-3 server sends exceeds 1 MiB + 16).
PIECE_BYTES = 1024 * 1024
#: Largest answer a client reassembles from pieces by default (configurable per
#: transport: ``max_answer_bytes``); a longer one fails its call with ANSWER_TOO_LARGE.
DEFAULT_MAX_ANSWER_BYTES = 256 * 1024 * 1024
#: Request ids are u32 and wrap; 0 is reserved for connection-level errors.
MAX_REQUEST_ID = 0xFFFFFFFF


class HandshakeFlag(IntFlag):
    """Bits of the preamble's flags field.  Unknown bits are refused by the server.

    WIRE: never renumber.  Reserved for later: TLS upgrade after the preamble and an
    AUTH exchange before the first request (docs/formats/rpc.md#security-adding-tls-and-authentication-later).
    """

    NONE = 0
    TLS = 1  # reserved: client asks to upgrade to TLS right after the preamble
    AUTH = 2  # reserved: client will send an AUTH frame before any other request


class FrameFlag(IntFlag):
    """Bits of a frame header's flags field.  WIRE: never renumber."""

    NONE = 0
    RESPONSE = 1
    """The frame answers the request with the same request_id."""
    ERROR = 2
    """(with RESPONSE) the body is an error map, not a result."""
    MORE = 4
    """(with RESPONSE, version 3) the body is one piece of the answer: more pieces with
    the same request_id follow, the last one without MORE; the answer's body is the
    pieces' bodies concatenated in order.  An error answer is never split."""


KNOWN_FRAME_FLAGS = int(FrameFlag.RESPONSE | FrameFlag.ERROR | FrameFlag.MORE)


class OpTag(IntEnum):
    """First element of an encoded mutation op.  # ON-DISK/WIRE: never renumber."""

    PUT = 0
    DELETE_VERSION = 1
    DELETE_COLUMN = 2
    DELETE_FAMILY = 3
    DELETE_FAMILY_VERSION = 4
    DELETE_ROW = 5
