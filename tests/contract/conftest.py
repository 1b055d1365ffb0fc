"""The contract suite's one fixture: the same test bodies over every kind of connection.

Role: ``conn`` (and ``make_conn``, for tests that need a second connection or a
``table_prefix``) is parametrized over ``KINDS``; each kind is built by ONE small function
below (``_embedded``, ``_rpc_memory``, ...), and nowhere else, so a change to how clients
are constructed is a change here only. Only ``_rpc_memory`` reaches below the public entry
points (``hedgerow.connect``, ``hedgerow.aio.connect``, ``StandaloneServer``,
``ThriftServer``, ``happybase``).

Capabilities: a test that uses a feature not every kind can express says so with
``@pytest.mark.needs("feature", ...)``; ``CAPABILITIES`` says which kind has which feature,
and a kind without one is skipped with the reason from ``FEATURES``. There are no ad-hoc
skips inside tests.

Known bugs: a test that shows a kind giving a different answer, where the fix belongs to
code outside this suite, is marked ``@pytest.mark.known_bug(name)``; ``KNOWN_BUGS`` names
the kinds and the bug, and those kinds run it as ``xfail(strict=True)``.

Invariants: every kind gets a fresh, empty store per test (start-up costs a few ms; a
standalone server about 10 ms); everything a kind opened is closed at teardown.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import hedgerow

#: feature -> why a kind may lack it (the skip reason names the feature and this)
FEATURES: dict[str, str] = {
    "split_keys": "create_table(split_keys=...) (Thrift createTable takes none)",
    "flush": "flush_table (Thrift1 has no flush call)",
    "alter_table": "alter_table / truncate_table (not in happybase)",
    "admin": "conn.admin(): split, merge, status (not in Thrift1)",
    "mutate_row": "Table.mutate_row (not in happybase)",
    "delete_cell": "Table.delete_cell / delete_family_version (not in happybase)",
    "increment": "Table.increment / append of several columns (not in happybase)",
    "check_and_mutate": "Table.check_and_mutate (Thrift1 has no checkAndMutate)",
    "get_filter": "row/rows(filter=...) (happybase's row and rows take no filter)",
    "durability": "put(durability=...) (happybase has only wal=)",
    "scan_extras": "scan(time_range, max_versions, raw, start/stop_inclusive) (not in TScan)",
    "family_options": "Hedgerow-only family options (min_versions, keep_deleted_cells)",
    "hedgerow_errors": "failures raise Hedgerow's exception classes (Thrift: IOError/IllegalArgument; "
    "happybase checks some arguments itself, with TypeError/ValueError)",
    "hedgerow_shapes": "Hedgerow's argument and result shapes where happybase differs (rows([]) "
    "is [], str scan bounds, bytes family names, families() names without ':', scan limit "
    "counting rows, not scan_batching's partial rows)",
}

_ALL = frozenset(FEATURES)

#: kind -> the features it has
CAPABILITIES: dict[str, frozenset[str]] = {
    "embedded": _ALL,
    "rpc-memory": _ALL,
    "standalone": _ALL,
    "asyncio-embedded": _ALL,
    "asyncio-standalone": _ALL,
    "thrift": frozenset(),
}

KINDS = tuple(CAPABILITIES)

_NATIVE = ("embedded", "rpc-memory", "standalone", "asyncio-embedded", "asyncio-standalone")

#: known bug -> (the kinds that have it, reason). A test marked ``known_bug(name)`` is
#: ``xfail(strict=True)`` on those kinds (so the fix makes it fail until this entry goes)
#: and an ordinary test on the others.
KNOWN_BUGS: dict[str, tuple[tuple[str, ...], str]] = {
    "families_str_values": (
        _NATIVE,
        "client difference (src/hedgerow/client/builders.py families_dict): compression and "
        "bloom_filter_type come back as str; happybase (Thrift) gives bytes",
    ),
}

#: make_conn's signature: keyword options of hedgerow.connect (table_prefix, ...)
MakeConn = Callable[..., Any]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs(*features): run only on connection kinds that have these features"
    )
    config.addinivalue_line(
        "markers", "known_bug(name): xfail(strict=True) on the kinds KNOWN_BUGS[name] names"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        kind = callspec.params.get("kind") if callspec is not None else None
        for mark in item.iter_markers("known_bug"):
            (name,) = mark.args
            kinds, reason = KNOWN_BUGS[name]
            if kind in kinds:
                item.add_marker(pytest.mark.xfail(strict=True, reason=reason))


# ---- one function per kind ----------------------------------------------------------------
# Each takes (tmp_path, stack) and returns make_conn(**options) -> a connection; whatever
# it starts is registered on ``stack`` to be closed at teardown.


def _embedded(tmp_path: Path, stack: contextlib.ExitStack) -> MakeConn:
    def make(**options: Any) -> Any:
        return hedgerow.connect(str(tmp_path / "db"), background=False, **options)

    return make


def _rpc_memory(tmp_path: Path, stack: contextlib.ExitStack) -> MakeConn:
    # The one construction below the public API: a Connection over RpcBackend over the
    # in-memory transport, served by an embedded engine (tests/rpc/test_rpc_backend.py).
    from hedgerow.rpc import InMemoryTransport, RpcBackend

    engine = stack.enter_context(hedgerow.connect(str(tmp_path / "db"), background=False))

    def make(**options: Any) -> Any:
        return hedgerow.Connection(RpcBackend(InMemoryTransport(engine.backend)), **options)

    return make


def _standalone_url(tmp_path: Path, stack: contextlib.ExitStack) -> str:
    from hedgerow.server.standalone import StandaloneConfig, StandaloneServer

    srv = StandaloneServer(StandaloneConfig(str(tmp_path / "srv"), port=0, thrift_port=None))
    srv.start()
    stack.callback(srv.stop)
    return f"hedgerow://127.0.0.1:{srv.rpc_address[1]}"


def _standalone(tmp_path: Path, stack: contextlib.ExitStack) -> MakeConn:
    url = _standalone_url(tmp_path, stack)

    def make(**options: Any) -> Any:
        return hedgerow.connect(url, **options)

    return make


def _asyncio(target: str, stack: contextlib.ExitStack) -> MakeConn:
    import hedgerow.aio

    from .sync_aio import LoopThread

    loop = LoopThread()
    stack.callback(loop.stop)

    def make(**options: Any) -> Any:
        return loop.wrap(loop.call(hedgerow.aio.connect, target, **options))

    return make


def _asyncio_embedded(tmp_path: Path, stack: contextlib.ExitStack) -> MakeConn:
    return _asyncio(str(tmp_path / "db"), stack)


def _asyncio_standalone(tmp_path: Path, stack: contextlib.ExitStack) -> MakeConn:
    return _asyncio(_standalone_url(tmp_path, stack), stack)


def _thrift(tmp_path: Path, stack: contextlib.ExitStack) -> MakeConn:
    happybase = pytest.importorskip("happybase", reason="never: happybase is a dev dependency")
    from hedgerow.gateways.thrift import ThriftServer

    store = stack.enter_context(hedgerow.connect(str(tmp_path / "db"), background=False))
    gateway = ThriftServer(store, host="127.0.0.1", port=0).start()
    stack.callback(gateway.stop)

    def make(**options: Any) -> Any:
        return happybase.Connection("127.0.0.1", gateway.address[1], **options)

    return make


_BUILDERS: dict[str, Callable[[Path, contextlib.ExitStack], MakeConn]] = {
    "embedded": _embedded,
    "rpc-memory": _rpc_memory,
    "standalone": _standalone,
    "asyncio-embedded": _asyncio_embedded,
    "asyncio-standalone": _asyncio_standalone,
    "thrift": _thrift,
}
assert set(_BUILDERS) == set(KINDS)


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    """The connection kind under test; a kind lacking a ``needs`` feature is skipped here."""
    name: str = request.param
    for mark in request.node.iter_markers("needs"):
        unknown = set(mark.args) - set(FEATURES)
        assert not unknown, f"unknown feature(s) in needs(): {sorted(unknown)}"
        missing = [f for f in mark.args if f not in CAPABILITIES[name]]
        if missing:
            pytest.skip(f"{name} lacks " + "; ".join(FEATURES[f] for f in missing))
    return name


@pytest.fixture
def make_conn(kind: str, tmp_path: Path) -> Iterator[MakeConn]:
    """``make_conn(**options)``: a new connection to this test's store, closed at teardown.

    Embedded kinds allow one open connection to a store at a time (DirectoryLocked):
    close one before making the next.
    """
    with contextlib.ExitStack() as stack:
        build = _BUILDERS[kind](tmp_path, stack)
        made: list[Any] = []

        def make(**options: Any) -> Any:
            c = build(**options)
            made.append(c)
            return c

        try:
            yield make
        finally:
            for c in reversed(made):
                c.close()


@pytest.fixture
def conn(make_conn: MakeConn) -> Any:
    """A connection (hedgerow.Connection, or a stand-in with its shape) to an empty store."""
    return make_conn()


@pytest.fixture
def table(conn: Any) -> Any:
    """Table "t": family cf keeps 3 versions, cf2 the default."""
    conn.create_table("t", {"cf": {"max_versions": 3}, "cf2": {}})
    return conn.table("t")
