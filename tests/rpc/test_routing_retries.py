"""RFC 0001: every one-row call and every scanner open names its region; after a split it
did not see, the client is refused once, reads the table's regions once more and retries.

Each case runs through the blocking client (``RpcBackend``) and the asyncio client
(``AsyncRpcBackend``) against ``hedgerow standalone``. The server's region checks are
recorded, so a case proves the refusal happened (a client that never named a region, or
a server that never checked, fails it), and that exactly one fresh REGIONS lookup
followed it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

import hedgerow
import hedgerow.aio
from hedgerow.errors import NotServingRegion
from hedgerow.model.read_spec import ReadSpec
from hedgerow.rpc import InMemoryTransport, RpcBackend
from hedgerow.rpc.aio_client import AsyncRpcBackend
from hedgerow.rpc.operations import Operations as Ops
from hedgerow.server.standalone import StandaloneServer

from ._routing import Check, record_checks, split_behind, url_of
from .conftest import FakeHandler

ROWS = [b"r%03d" % i for i in range(100)]


@dataclass(frozen=True)
class Op:
    """One data call, blocking and awaiting, and what it must return."""

    run: Callable[[Any], Any]
    arun: Callable[[Any], Awaitable[Any]]
    expected: Any
    #: the rows the opening check carries (a scan from the table's end carries none)
    rows: tuple[bytes, ...]


async def _keys(it: Any) -> list[bytes]:
    return [k async for k, _ in it]


OPS: dict[str, Op] = {
    "increment": Op(
        lambda t: t.increment(b"r010", {b"cf:n": 5}),
        lambda t: t.increment(b"r010", {b"cf:n": 5}),
        {b"cf:n": 5},
        (b"r010",),
    ),
    "append": Op(
        lambda t: t.append(b"r010", {b"cf:s": b"x"}),
        lambda t: t.append(b"r010", {b"cf:s": b"x"}),
        {b"cf:s": b"x"},
        (b"r010",),
    ),
    "check_and_mutate": Op(
        lambda t: t.check_and_mutate(b"r010", b"cf:q", b"r010", put={b"cf:q": b"w"}),
        lambda t: t.check_and_mutate(b"r010", b"cf:q", b"r010", put={b"cf:q": b"w"}),
        True,
        (b"r010",),
    ),
    "scan_from_a_row": Op(
        lambda t: [k for k, _ in t.scan(row_start=b"r003")],
        lambda t: _keys(t.scan(row_start=b"r003")),
        ROWS[3:],
        (b"r003",),
    ),
    "scan_from_the_start": Op(
        lambda t: [k for k, _ in t.scan()],
        lambda t: _keys(t.scan()),
        ROWS,
        (b"",),  # the empty key: only the table's first region holds it
    ),
    "reverse_scan_from_the_end": Op(
        lambda t: [k for k, _ in t.scan(reverse=True)],
        lambda t: _keys(t.scan(reverse=True)),
        ROWS[::-1],
        (),
    ),
    "reverse_scan_from_a_row": Op(
        lambda t: [k for k, _ in t.scan(row_start=b"r090", reverse=True)],
        lambda t: _keys(t.scan(row_start=b"r090", reverse=True)),
        ROWS[90::-1],
        (b"r090",),
    ),
    "page_filter_scan": Op(  # filter state spans the regions the server scanner crosses
        lambda t: [k for k, _ in t.scan(row_start=b"r045", filter="PageFilter(10)")],
        lambda t: _keys(t.scan(row_start=b"r045", filter="PageFilter(10)")),
        ROWS[45:55],
        (b"r045",),
    ),
}


def _fill(srv: StandaloneServer) -> None:
    conn = hedgerow.connect(url_of(srv))
    conn.create_table("t", {"cf": {}})
    with conn.table("t").batch() as batch:
        for r in ROWS:
            batch.put(r, {b"cf:q": r})
    conn.close()


def _assert_refused_once_then_served(
    checks: list[Check], stale: str, rows: tuple[bytes, ...]
) -> None:
    assert [c.served for c in checks] == [False, True], checks
    assert checks[0].region == stale
    assert checks[1].region != stale
    assert checks[0].rows == checks[1].rows == rows


@pytest.mark.parametrize("name", sorted(OPS))
def test_blocking_call_is_refused_then_retried_after_a_split(
    standalone: StandaloneServer, name: str
) -> None:
    op = OPS[name]
    _fill(standalone)
    with hedgerow.connect(url_of(standalone)) as conn:
        t = conn.table("t")
        b = conn.backend
        assert isinstance(b, RpcBackend)
        assert t.row(b"r000") == {b"cf:q": b"r000"}  # caches the one-region layout
        (stale,) = [r.name for r in b.call(Ops.regions, "t")]
        assert b.locator.refreshes == 1
        split_behind(standalone, b"r050")  # the cached region is gone
        checks = record_checks(standalone)
        assert op.run(t) == op.expected
        assert b.locator.refreshes == 2, "expected exactly one fresh lookup"
        _assert_refused_once_then_served(checks, stale, op.rows)


@pytest.mark.parametrize("name", sorted(OPS))
def test_asyncio_call_is_refused_then_retried_after_a_split(
    standalone: StandaloneServer, name: str
) -> None:
    op = OPS[name]
    _fill(standalone)

    async def main() -> None:
        async with hedgerow.aio.connect(url_of(standalone)) as conn:
            t = conn.table("t")
            b = conn.backend
            assert isinstance(b, AsyncRpcBackend)
            assert await t.row(b"r000") == {b"cf:q": b"r000"}
            (stale,) = [r.name for r in await b.call(Ops.regions, "t")]
            assert b.locator.refreshes == 1
            await asyncio.to_thread(split_behind, standalone, b"r050")
            checks = record_checks(standalone)
            assert await op.arun(t) == op.expected
            assert b.locator.refreshes == 2, "expected exactly one fresh lookup"
            _assert_refused_once_then_served(checks, stale, op.rows)

    asyncio.run(main())


def test_a_split_made_by_this_client_needs_no_refusal(standalone: StandaloneServer) -> None:
    """The client's own split (and other region-changing DDL) drops its cached locations:
    the next call looks the table up at once instead of being refused first."""
    _fill(standalone)
    conn = hedgerow.connect(url_of(standalone))
    t = conn.table("t")
    b = conn.backend
    assert isinstance(b, RpcBackend)
    assert t.row(b"r010") == {b"cf:q": b"r010"}
    checks = record_checks(standalone)
    conn.admin().split("t", b"r050")
    assert t.increment(b"r010", {b"cf:n": 1}) == {b"cf:n": 1}
    assert [c.served for c in checks] == [True]
    assert b.locator.refreshes == 2
    conn.close()


class _AlwaysRefusing(FakeHandler):
    """Names a region in REGIONS that it then refuses to serve (a region forever moving)."""

    def check_region(self, table: str, region: str, rows: Any) -> None:
        raise NotServingRegion(f"region {region} is not served here")


def test_refusals_are_retried_with_backoff_until_the_deadline() -> None:
    b = RpcBackend(InMemoryTransport(_AlwaysRefusing()), timeout_s=0.1)
    start = time.monotonic()
    with pytest.raises(NotServingRegion, match="0000000001"):
        b.call(Ops.get, "t", b"r", ReadSpec())
    elapsed = time.monotonic() - start
    # waits of 10, 20 and 40 ms fit in the 0.1 s budget, the next (80 ms) would not: up
    # to four lookups (three on a slow machine), then the last refusal is raised
    assert 3 <= b.locator.refreshes <= 4
    assert 0.03 <= elapsed < 1.0
