"""The blocking and asyncio client surfaces agree, and every backend serves every operation.

Each blocking class and its asyncio twin must offer the same public methods with the
same parameters (names, kinds, defaults); the twin's are coroutines except where the
blocking method does no I/O either (``table``, ``admin``) or hands back an object the
caller iterates or enters (``scan``, ``batch``).  And every operation declared in
``hedgerow.rpc.operations`` must be implemented by the engine with the declared
parameters, so a drifting signature fails here as well as under mypy.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

import hedgerow
from hedgerow.client import (
    Admin,
    AsyncAdmin,
    AsyncBatch,
    AsyncConnection,
    AsyncTable,
    Batch,
    Connection,
    Table,
)
from hedgerow.rpc.operations import OPERATIONS, Operations

PAIRS = [
    (Table, AsyncTable),
    (Connection, AsyncConnection),
    (Admin, AsyncAdmin),
    (Batch, AsyncBatch),
]
#: methods that return at once in both flavours (no I/O, or an object to iterate/enter)
NOT_AWAITED = {"table", "admin", "scan", "batch", "backend"}
#: the context-manager protocol differs by name only
RENAMED = {"__enter__": "__aenter__", "__exit__": "__aexit__"}


def _public(cls: type) -> dict[str, Any]:
    out = {}
    for name in dir(cls):
        if name.startswith("_") and name not in RENAMED and name not in RENAMED.values():
            continue
        if name in object.__dict__ or name in ("table_prefix", "table_prefix_separator"):
            continue
        out[RENAMED.get(name, name)] = getattr(cls, name)
    return out


def _params(fn: Any) -> list[tuple[str, Any, Any]]:
    if isinstance(fn, property):
        return []
    sig = inspect.signature(fn)
    ps = list(sig.parameters.values())[1:]  # drop self (or the plan's subject)
    return [(p.name, p.kind, p.default) for p in ps]


@pytest.mark.parametrize("sync_cls, async_cls", PAIRS, ids=lambda c: c.__name__)
def test_same_methods_and_parameters(sync_cls: type, async_cls: type) -> None:
    sync, aio = _public(sync_cls), _public(async_cls)
    assert sorted(sync) == sorted(aio)
    for name, fn in sync.items():
        assert _params(fn) == _params(aio[name]), f"{sync_cls.__name__}.{name}"


@pytest.mark.parametrize("sync_cls, async_cls", PAIRS, ids=lambda c: c.__name__)
def test_async_methods_are_coroutines(sync_cls: type, async_cls: type) -> None:
    for name, fn in _public(async_cls).items():
        if isinstance(fn, property) or name in NOT_AWAITED:
            continue
        assert inspect.iscoroutinefunction(fn), f"{async_cls.__name__}.{name} is not async"
        assert not inspect.iscoroutinefunction(_public(sync_cls)[name]), name


def test_the_comparison_sees_a_difference() -> None:
    """The checks above can fail: a twin with a renamed parameter is caught."""

    class Drifted(AsyncTable):
        async def put(self, row: bytes, values: dict[bytes, bytes]) -> None:  # type: ignore[override]
            raise NotImplementedError

    with pytest.raises(AssertionError):
        test_same_methods_and_parameters(Table, Drifted)


def test_the_engine_implements_every_operation_as_declared(tmp_path: Path) -> None:
    conn = hedgerow.connect(str(tmp_path / "db"))
    try:
        engine = conn.backend
        for name in OPERATIONS:
            declared = inspect.signature(getattr(Operations, name))
            params = list(declared.parameters.values())[1:]
            got = inspect.signature(getattr(engine, name))
            assert [(p.name, p.kind) for p in got.parameters.values()] == [
                (p.name, p.kind) for p in params
            ], name
    finally:
        conn.close()
