"""RPC-level error classes and the wire-code -> exception-class lookup.

Role: the server answers a failed request with ``(code, message, fields)``; the
client turns it back into an exception of the same class with
``class_for_code``.  Codes of ``hedgerow.errors`` classes are used as they are;
this module adds the errors only the RPC layer raises (bad frames, versions,
deadlines, lost connections, expired scanners).

The RPC part of the exception tree (all under ``HedgerowError``)::

    RpcError                         base of errors raised by the RPC layer
    ├── ProtocolError                malformed preamble/frame/body; the peer broke the protocol
    │   ├── UnsupportedVersion       preamble version (or flags) this end does not speak
    │   ├── FrameTooLarge            a frame over the configured maximum size
    │   └── UnknownMessageType       a frame type this server does not serve
    ├── DeadlineExceeded             (also TimeoutError) the call's deadline passed
    ├── ConnectionLost               (also ConnectionError) the connection closed or failed
    │   └── ServerUnreachable        no connection could be made: nothing was sent (client side)
    ├── ScannerExpired               the scanner id is unknown: lease expired or closed
    ├── RemoteInternalError          the server failed with a non-Hedgerow exception (a bug)
    └── AnswerTooLarge               an answer in pieces passed the client's max_answer_bytes

Invariants: every code is unique across ``hedgerow.errors`` and this module
(tests/rpc/test_codec.py checks it); codes are never reused.
Concurrency: immutable after import.
"""

from __future__ import annotations

from hedgerow.errors import HedgerowError, error_class_for_code

__all__ = [
    "AnswerTooLarge",
    "ConnectionLost",
    "DeadlineExceeded",
    "FrameTooLarge",
    "ProtocolError",
    "RPC_ERROR_CLASSES",
    "RemoteInternalError",
    "RpcError",
    "ScannerExpired",
    "ServerUnreachable",
    "UnknownMessageType",
    "UnsupportedVersion",
    "class_for_code",
]


class RpcError(HedgerowError):
    """Base of the errors the RPC layer itself raises."""

    code = "RPC_ERROR"


class ProtocolError(RpcError):
    """The peer sent bytes that are not a valid preamble, frame or message body."""

    code = "PROTOCOL"


class UnsupportedVersion(ProtocolError):
    """The peer speaks a protocol version (or preamble flags) this end does not."""

    code = "UNSUPPORTED_VERSION"


class FrameTooLarge(ProtocolError):
    """A frame is larger than the configured maximum frame size."""

    code = "FRAME_TOO_LARGE"


class UnknownMessageType(ProtocolError):
    """The frame's message type is not one this server serves."""

    code = "UNKNOWN_MESSAGE_TYPE"


class AnswerTooLarge(RpcError):
    """An answer sent in pieces passed the client's ``max_answer_bytes``; the call failed,
    the connection goes on."""

    code = "ANSWER_TOO_LARGE"


class DeadlineExceeded(RpcError, TimeoutError):
    """The call's deadline passed before an answer arrived (or before the server ran it)."""

    code = "DEADLINE_EXCEEDED"


class ConnectionLost(RpcError, ConnectionError):
    """The connection to the server could not be made, or closed while calls were pending."""

    code = "CONNECTION_LOST"


class ServerUnreachable(ConnectionLost):
    """No connection to the server could be made (refused, reset or closed during the
    handshake): the request was never sent, so any call may be retried elsewhere.
    Raised by the client transports only; never sent on the wire."""

    code = "SERVER_UNREACHABLE"


class ScannerExpired(RpcError):
    """The scanner id is unknown: its lease expired, it was closed, or its connection went."""

    code = "SCANNER_EXPIRED"


class RemoteInternalError(RpcError):
    """The server's handler raised something that is not a HedgerowError (a server bug)."""

    code = "INTERNAL"


RPC_ERROR_CLASSES: tuple[type[RpcError], ...] = (
    RpcError,
    ProtocolError,
    UnsupportedVersion,
    FrameTooLarge,
    UnknownMessageType,
    DeadlineExceeded,
    ConnectionLost,
    ServerUnreachable,
    ScannerExpired,
    RemoteInternalError,
    AnswerTooLarge,
)

_BY_CODE: dict[str, type[HedgerowError]] = {c.code: c for c in RPC_ERROR_CLASSES}


def class_for_code(code: str) -> type[HedgerowError]:
    """The exception class for a wire code: RPC classes first, then ``hedgerow.errors``.

    Unknown codes (a newer server) give ``HedgerowError``.

    >>> class_for_code("DEADLINE_EXCEEDED").__name__, class_for_code("TABLE_NOT_FOUND").__name__
    ('DeadlineExceeded', 'TableNotFound')
    """
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls
    return error_class_for_code(code)
