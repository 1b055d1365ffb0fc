"""The internal RPC protocol between clients, region servers and the master.

Role: ``RpcServer`` serves a ``Handler`` (the Backend operations) over TCP;
clients reach it through a ``Transport`` (``SocketTransport``,
``AsyncSocketTransport``, or ``InMemoryTransport`` in tests) and ``RpcBackend``.
Format: docs/formats/rpc.md.  Layer rule: imports ``model``, ``errors`` and
``_internal`` only.

Modules: wire_format (constants), framing (frame decoder/encoder), codes (RPC
errors), codec (model types <-> msgpack), messages (one request/response pair
per operation), handler (what a server serves), dispatch (server-side request
execution and scanner leases), server, transport, client.
"""

from __future__ import annotations

from hedgerow.rpc.client import RemoteScanner, RpcBackend
from hedgerow.rpc.codes import (
    AnswerTooLarge,
    ConnectionLost,
    DeadlineExceeded,
    FrameTooLarge,
    ProtocolError,
    RemoteInternalError,
    RpcError,
    ScannerExpired,
    ServerUnreachable,
    UnknownMessageType,
    UnsupportedVersion,
)
from hedgerow.rpc.operations import Handler, MessageType
from hedgerow.rpc.server import RpcServer
from hedgerow.rpc.transport import (
    AsyncSocketTransport,
    AsyncTransport,
    InMemoryTransport,
    SocketTransport,
    Transport,
)
from hedgerow.rpc.wire_format import MAGIC, PROTOCOL_VERSION

__all__ = [
    "MAGIC",
    "PROTOCOL_VERSION",
    "AnswerTooLarge",
    "AsyncSocketTransport",
    "AsyncTransport",
    "ConnectionLost",
    "DeadlineExceeded",
    "FrameTooLarge",
    "Handler",
    "InMemoryTransport",
    "MessageType",
    "ProtocolError",
    "RemoteInternalError",
    "RemoteScanner",
    "RpcBackend",
    "RpcError",
    "RpcServer",
    "ScannerExpired",
    "ServerUnreachable",
    "SocketTransport",
    "Transport",
    "UnknownMessageType",
    "UnsupportedVersion",
]
