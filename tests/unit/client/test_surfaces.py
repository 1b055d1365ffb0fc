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
from hedgerow.client.batch import BatchSpec
from hedgerow.model.durability import Durability
from hedgerow.rpc.operations import OPERATIONS, Operations

SPEC = BatchSpec("t", None, None, False, Durability.SYNC_WAL)
#: each blocking class and its asyncio twin, built on no backend (nothing is called)
PAIRS: list[tuple[Any, Any]] = [
    (Table("t", None), AsyncTable("t", None)),  # type: ignore[arg-type]
    (Connection(None), AsyncConnection(None)),  # type: ignore[arg-type]
    (Admin(None, str), AsyncAdmin(None, str)),  # type: ignore[arg-type]
    (Batch(None, SPEC), AsyncBatch(None, SPEC)),  # type: ignore[arg-type]
]
IDS = [type(s).__name__ for s, _ in PAIRS]
#: methods that return at once in both flavours (no I/O, or an object to iterate/enter)
NOT_AWAITED = {"table", "admin", "scan", "batch"}
#: the context-manager protocol differs by name only
RENAMED = {"__enter__": "__aenter__", "__exit__": "__aexit__"}


def _public(obj: Any) -> dict[str, Any]:
    """The object's public methods (bound), by name; the context manager's by one name."""
    out = {}
    for name in dir(type(obj)):
        if name.startswith("_") and name not in RENAMED and name not in RENAMED.values():
            continue
        if isinstance(getattr(type(obj), name), property) or name in object.__dict__:
            continue
        if callable(getattr(obj, name)):
            out[RENAMED.get(name, name)] = getattr(obj, name)
    return out


def _params(fn: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("sync, aio", PAIRS, ids=IDS)
def test_same_methods_and_parameters(sync: Any, aio: Any) -> None:
    s, a = _public(sync), _public(aio)
    assert sorted(s) == sorted(a)
    for name, fn in s.items():
        assert _params(fn) == _params(a[name]), f"{type(sync).__name__}.{name}"


@pytest.mark.parametrize("sync, aio", PAIRS, ids=IDS)
def test_async_methods_are_coroutines(sync: Any, aio: Any) -> None:
    s = _public(sync)
    for name, fn in _public(aio).items():
        if name in NOT_AWAITED:
            continue
        assert inspect.iscoroutinefunction(fn), f"{type(aio).__name__}.{name} is not async"
        assert not inspect.iscoroutinefunction(s[name]), name


def test_the_comparison_sees_a_difference() -> None:
    """The checks above can fail: a twin with a renamed parameter is caught."""

    class Drifted(AsyncTable):
        async def put(self, row: bytes, values: dict[bytes, bytes]) -> None:  # type: ignore[override]
            raise NotImplementedError

    with pytest.raises(AssertionError):
        test_same_methods_and_parameters(Table("t", None), Drifted("t", None))  # type: ignore[arg-type]


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
