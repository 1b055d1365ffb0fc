"""Checked accessors for untrusted msgpack values in RPC bodies.

Role: the decoders of ``rpc.codec`` and ``rpc.filter_codec`` read every field of
a peer's body through these, so a malformed body raises ``ProtocolError`` with
the field's name instead of a TypeError deep inside the model.
Invariants: each accessor returns its input unchanged when its type is exactly
the wire type (``type(v) is bytes``; bool is not an int here) and raises
``ProtocolError`` otherwise.
Concurrency: stateless functions; thread-safe.
"""

from __future__ import annotations

from typing import Any

from hedgerow.rpc.codes import ProtocolError

__all__ = [
    "need_bool",
    "need_bytes",
    "need_int",
    "need_list",
    "need_str",
    "opt_bytes",
    "opt_int",
]


def need_bytes(v: Any, what: str) -> bytes:
    if type(v) is not bytes:
        raise ProtocolError(f"{what} must be bin, got {type(v).__name__}")
    return v


def opt_bytes(v: Any, what: str) -> bytes | None:
    return None if v is None else need_bytes(v, what)


def need_int(v: Any, what: str) -> int:
    if type(v) is not int:
        raise ProtocolError(f"{what} must be an int, got {type(v).__name__}")
    return v


def opt_int(v: Any, what: str) -> int | None:
    return None if v is None else need_int(v, what)


def need_bool(v: Any, what: str) -> bool:
    if type(v) is not bool:
        raise ProtocolError(f"{what} must be a bool, got {type(v).__name__}")
    return v


def need_str(v: Any, what: str) -> str:
    if type(v) is not str:
        raise ProtocolError(f"{what} must be a str, got {type(v).__name__}")
    return v


def need_list(v: Any, what: str, n: int | None = None) -> list[Any]:
    if type(v) is not list:
        raise ProtocolError(f"{what} must be an array, got {type(v).__name__}")
    if n is not None and len(v) != n:
        raise ProtocolError(f"{what} must have {n} elements, got {len(v)}")
    return v
