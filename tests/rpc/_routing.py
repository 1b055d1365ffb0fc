"""Helpers of the routing tests (RFC 0001): a standalone server's URL, a split made by
another client, and a record of every region check the server makes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import hedgerow
from hedgerow.errors import NotServingRegion
from hedgerow.server.standalone import StandaloneServer


def url_of(srv: StandaloneServer) -> str:
    return f"hedgerow://127.0.0.1:{srv.rpc_address[1]}"


def split_behind(srv: StandaloneServer, row: bytes, table: str = "t") -> None:
    """Split ``table`` at ``row`` from another connection: the clients under test keep
    their cached (now stale) locations."""
    other = hedgerow.connect(url_of(srv))
    try:
        other.admin().split(table, row)
    finally:
        other.close()


@dataclass(frozen=True)
class Check:
    """One region check of a region-addressed request: the region named, the rows the
    request carries (none for a scan from the table's end), and whether it was served."""

    region: str
    rows: tuple[bytes, ...]
    served: bool


def record_checks(srv: StandaloneServer) -> list[Check]:
    """Every region check ``srv`` makes from now on, in order (the engine is the server's
    handler; the dispatcher calls its ``check_region`` for each addressed request)."""
    engine = srv.engine
    assert engine is not None
    seen: list[Check] = []
    check = engine.check_region

    def recording(table: str, region: str, rows: Any) -> None:
        try:
            check(table, region, rows)
        except NotServingRegion:
            seen.append(Check(region, tuple(rows), False))
            raise
        seen.append(Check(region, tuple(rows), True))

    engine.check_region = recording  # type: ignore[method-assign]
    return seen
