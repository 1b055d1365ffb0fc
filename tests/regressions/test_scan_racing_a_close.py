"""A region closed under a scan (split, merge, move, alter) must say so, not end quietly.

Found in a cluster: a scan racing a region server's split request returned 659 of 2,000
rows and ended without an error, because the parent region's scan simply stopped when the
region's stores were released. Now ``Region.scan`` raises RegionClosed when the region
closed while it ran, and callers resume after the last row on the regions that replaced
it (engine/request_routing.py, the RPC clients).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import hedgerow
from hedgerow.errors import RegionClosed
from hedgerow.model.read_spec import ReadSpec, ScanRange


def test_a_region_closed_mid_scan_raises_region_closed(tmp_path: Path) -> None:
    conn = hedgerow.connect(str(tmp_path / "db"))
    try:
        conn.create_table("t", {"cf": {}})
        with conn.table("t").batch() as b:
            for i in range(300):
                b.put(b"r%04d" % i, {b"cf:q": b"v"})
        conn.admin().flush("t")
        tr = conn.backend.region_server.online("t")
        assert tr is not None
        (region,) = tr.regions
        it = region.scan(ScanRange(), ReadSpec())
        first = [next(it)[0] for _ in range(10)]
        assert first[-1] == b"r0009"
        region.close()
        with pytest.raises(RegionClosed, match="closed"):
            list(it)
        with pytest.raises(RegionClosed):
            next(region.scan(ScanRange(), ReadSpec()))
    finally:
        conn.close()


def test_an_embedded_scan_across_a_split_returns_every_row_once(tmp_path: Path) -> None:
    """The engine's scan resumes after the last row when its region splits under it."""
    conn = hedgerow.connect(str(tmp_path / "db"))
    try:
        conn.create_table("t", {"cf": {}})
        rows = [b"r%04d" % i for i in range(500)]
        with conn.table("t").batch() as b:
            for k in rows:
                b.put(k, {b"cf:q": b"v"})
        scan = conn.table("t").scan(batch_size=10)
        got = [next(scan)[0] for _ in range(50)]
        conn.admin().split("t", b"r0300")
        got += [k for k, _ in scan]
        assert got == rows
    finally:
        conn.close()
