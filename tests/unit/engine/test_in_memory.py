"""The IN_MEMORY family option: its blocks use the block cache's in-memory list."""

from __future__ import annotations

from pathlib import Path

import hedgerow


def test_in_memory_family_blocks_are_cached_with_priority(tmp_path: Path) -> None:
    conn = hedgerow.connect(str(tmp_path / "db"))
    conn.create_table("t", {"hot": {"in_memory": True}, "cold": {}})
    t = conn.table("t")
    for i in range(200):
        t.put(b"r%03d" % i, {b"hot:a": b"x" * 50, b"cold:b": b"y" * 50})
    conn.flush_table("t")
    cache = conn.backend.cache  # type: ignore[attr-defined]
    cache.clear()
    assert t.row(b"r005", columns=[b"cold:b"]) == {b"cold:b": b"y" * 50}
    assert cache.stats()["in_memory_bytes"] == 0
    assert t.row(b"r005", columns=[b"hot:a"]) == {b"hot:a": b"x" * 50}
    assert cache.stats()["in_memory_bytes"] > 0
    conn.close()
