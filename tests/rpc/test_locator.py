"""Unit tests of the routing rules both RPC clients share (rpc/locator.py, RFC 0001)."""

from __future__ import annotations

import pytest

from hedgerow.errors import CorruptionError, NotServingRegion
from hedgerow.rpc import messages as m
from hedgerow.rpc.locator import (
    BACKOFF_MAX_S,
    UNADDRESSED,
    Backoff,
    FanOut,
    RegionLocator,
    TableLocations,
)

# deliberately out of order: REGIONS answers are sorted by the locator
REGIONS = [
    m.RegionInfo("t", "0000000003", b"m", b"t", "h:1"),
    m.RegionInfo("t", "0000000001", b"", b"f", "h:1"),
    m.RegionInfo("t", "0000000004", b"t", b"", "h:2"),
    m.RegionInfo("t", "0000000002", b"f", b"m", None),
]


def test_locate_is_a_bisect_over_sorted_ranges() -> None:
    loc = TableLocations(REGIONS)
    assert loc.starts == [b"", b"f", b"m", b"t"]
    assert loc.servers == ["h:1", None, "h:1", "h:2"]
    expected = {
        b"": "0000000001",
        b"a": "0000000001",
        b"ezzz": "0000000001",
        b"f": "0000000002",  # a start key belongs to its region
        b"l\xff": "0000000002",
        b"m": "0000000003",
        b"t": "0000000004",
        b"\xff\xff": "0000000004",
    }
    assert {row: loc.locate(row) for row in expected} == expected
    assert loc.last() == "0000000004"


def test_group_keeps_positions_in_order_and_regions_in_key_order() -> None:
    loc = TableLocations(REGIONS)
    rows = [b"z", b"a", b"n", b"b", b"u"]
    assert loc.group(rows, range(5)) == [
        ("0000000001", [1, 3]),
        ("0000000003", [2]),
        ("0000000004", [0, 4]),
    ]
    assert loc.group(rows, [2]) == [("0000000003", [2])]
    assert loc.group(rows, []) == []


def test_unaddressed_locations_send_everything_as_one_unaddressed_part() -> None:
    assert UNADDRESSED.locate(b"a") is None and UNADDRESSED.last() is None
    assert UNADDRESSED.group([b"a", b"z"], [0, 1]) == [(None, [0, 1])]
    assert UNADDRESSED.group([b"a"], []) == []


def test_locator_caches_counts_and_forgets() -> None:
    locator = RegionLocator()
    assert locator.cached("t") is None
    loc = locator.install("t", REGIONS)
    assert locator.cached("t") is loc and locator.refreshes == 1
    locator.forget("t")
    locator.forget("t")  # idempotent
    assert locator.cached("t") is None
    assert locator.lookups == 3
    with pytest.raises(NotServingRegion, match="no regions"):
        locator.install("u", [])
    assert locator.cached("u") is None


def test_fan_out_keeps_answers_resends_refused_parts_and_raises_other_errors() -> None:
    rows = [b"z", b"a", b"n", b"b"]
    fan = FanOut(rows, lambda r: r)
    parts = fan.parts(TableLocations(REGIONS))
    assert parts == [("0000000001", [1, 3]), ("0000000003", [2]), ("0000000004", [0])]
    with pytest.raises(NotServingRegion):
        fan.settle(parts, [["A", "B"], NotServingRegion("split"), ["Z"]])
    assert fan.pending == [2]  # only the refused part is still to send
    again = fan.parts(TableLocations(REGIONS))
    assert again == [("0000000003", [2])]
    fan.settle(again, [["N"]])
    assert fan.pending == []
    assert fan.per_item() == ["Z", "A", "N", "B"]  # request order

    failing = FanOut(rows, lambda r: r)
    parts = failing.parts(TableLocations(REGIONS))
    boom = CorruptionError("bad block")
    with pytest.raises(CorruptionError):
        failing.settle(parts, [["A", "B"], NotServingRegion("split"), boom])
    assert failing.pending == [2]


def test_backoff_doubles_to_a_cap_and_stops_at_the_deadline() -> None:
    now = [0.0]
    b = Backoff(deadline=100.0, now=lambda: now[0])
    delays = [b.next_delay() for _ in range(9)]
    assert delays[:3] == [0.01, 0.02, 0.04]
    assert max(d for d in delays if d is not None) == BACKOFF_MAX_S
    now[0] = 99.5
    assert b.next_delay() is None  # a 1 s wait would end past the deadline


class _Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def monotonic_s(self) -> float:
        return self.t


class _Transport:
    def __init__(self) -> None:
        self.clock = _Clock(50.0)
        self.timeout_s = 2.0


def test_backoff_for_a_call_uses_the_transport_clock_and_timeout() -> None:
    t = _Transport()
    assert Backoff.for_call(t, None).deadline == 52.0
    assert Backoff.for_call(t, 0.5).deadline == 50.5
