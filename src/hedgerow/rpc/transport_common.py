"""What the socket transports share: the default deadline and answer decoding.

Role: ``rpc.socket_transport`` and ``rpc.async_transport`` stamp each request
frame's timeout field with ``frame_timeout_ms`` and turn each answer into its body or
its error with ``answer_body``; ``rpc.transport`` re-exports ``DEFAULT_TIMEOUT_S``.
Format: docs/formats/rpc.md (frame header: ``timeout_ms:u32``, flag ERROR).
Invariants: a request's timeout field is in ``[1, 2**32 - 1]`` ms and never
shorter than the time the caller has left; an answer with the ERROR flag always
raises (the server's error mapped back to its class), never returns.
Concurrency: stateless functions; thread-safe.
"""

from __future__ import annotations

from hedgerow.rpc.codec import decode_error, unpackb
from hedgerow.rpc.wire_format import FrameFlag

__all__ = ["DEFAULT_TIMEOUT_S", "answer_body", "frame_timeout_ms"]

#: Deadline of a call that names none (seconds).
DEFAULT_TIMEOUT_S = 30.0
_ERROR = int(FrameFlag.ERROR)
_MAX_TIMEOUT_MS = 0xFFFFFFFF


def frame_timeout_ms(remaining_s: float) -> int:
    """The request frame's timeout field for a call with ``remaining_s`` seconds left."""
    return max(1, min(int(remaining_s * 1000) + 1, _MAX_TIMEOUT_MS))


def answer_body(frame_flags: int, body: bytes) -> bytes:
    """``body`` of a normal answer; raises the error an ERROR answer carries."""
    if frame_flags & _ERROR:
        raise decode_error(unpackb(body))
    return body
