"""Reads racing a split must never come back short.

2026-11-26: a scan or get that reached a region after ``split_region`` closed it
(but before the catalog switched to the daughters) read the closed stores: no
files, no memstore, so it returned nothing instead of being routed again.
Stores now refuse reads once closed (RegionClosed) and the engine retries on
the daughters. Found by tests/integration/test_standalone.py.
"""

from __future__ import annotations

import threading
from pathlib import Path

import hedgerow
from hedgerow._internal import failpoints


def test_reads_while_the_parent_is_closed_wait_for_the_daughters(tmp_path: Path) -> None:
    conn = hedgerow.connect(str(tmp_path / "db"))
    conn.create_table("t", {"cf": {}})
    t = conn.table("t")
    rows = [b"r%04d" % i for i in range(300)]
    with t.batch() as b:
        for r in rows:
            b.put(r, {b"cf:v": r})
    seen: dict[str, object] = {}

    def reader() -> None:
        seen["scan"] = [r for r, _ in t.scan()]
        seen["reverse"] = [r for r, _ in t.scan(reverse=True)]
        seen["get"] = t.row(b"r0123")

    def in_the_middle_of_the_split() -> None:
        # the parent is closed, the daughters exist, meta still names the parent
        th = threading.Thread(target=reader)
        th.start()
        th.join(0.2)  # the reader is now retrying against the closed parent
        seen["waited"] = th.is_alive()
        seen["thread"] = th

    failpoints.arm("master.split.before_meta", in_the_middle_of_the_split)
    conn.admin().split("t", b"r0150")
    failpoints.disarm("master.split.before_meta")
    th = seen["thread"]
    assert isinstance(th, threading.Thread)
    th.join(10)
    assert seen["waited"] is True
    assert seen["scan"] == rows
    assert seen["reverse"] == rows[::-1]
    assert seen["get"] == {b"cf:v": b"r0123"}
    assert len(conn.admin().list_regions("t")) == 2
    conn.close()
