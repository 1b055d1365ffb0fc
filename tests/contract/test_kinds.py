"""Contract: each kind really is the path it is named after (a guard on conftest.py itself).

Role: if a refactor of the client construction made two kinds the same path, every
contract test would still pass while testing less; this fails instead. It looks only at
which package the objects come from, not at how they are built.
"""

from __future__ import annotations

from typing import Any


def _module(obj: Any) -> str:
    return type(obj).__module__


def test_kind_is_the_path_it_names(kind: str, conn: Any) -> None:
    if kind == "thrift":
        assert _module(conn).startswith("happybase")
        return
    if kind.startswith("asyncio-"):
        target = conn._target  # the blocking adapter's AsyncConnection
        assert type(target).__name__ == "AsyncConnection"
        backend = target.backend
        remote = kind == "asyncio-standalone"
    else:
        assert type(conn).__name__ == "Connection"
        backend = conn.backend
        remote = kind in ("rpc-memory", "standalone")
    assert _module(backend).startswith("hedgerow.rpc") is remote, _module(backend)
    if kind in ("rpc-memory", "standalone"):
        transport = type(backend.transport).__name__
        assert ("InMemory" in transport) is (kind == "rpc-memory"), transport
