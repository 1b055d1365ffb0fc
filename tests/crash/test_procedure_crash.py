"""A process killed at each step of split, merge, create, alter, truncate, delete, disable, enable.

For every failpoint on the way through a multi-step change, a child process
writes rows (acknowledged at SYNC durability), arms that failpoint with
``exit`` (``os._exit(137)``: no cleanup, like SIGKILL at that instant) and
starts the change. The parent then reopens the directory and checks: every
acknowledged row is there exactly once, scans in order, the regions tile the
key space with no gap or overlap, no directory is orphaned, and the table
still splits, merges and takes writes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import hedgerow

ROWS = 400

CHILD = textwrap.dedent(
    """
    import os, sys
    import hedgerow
    from hedgerow._internal import failpoints
    path, action, point, ROWS = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    conn = hedgerow.connect(path, flush_size_bytes=16 * 1024, background=False)
    conn.create_table("t", {"cf": {}, "cf2": {"max_versions": 2}}, split_keys=[b"row00200"])
    t = conn.table("t")
    for i in range(ROWS):
        t.put(b"row%05d" % i, {b"cf:a": b"%d" % i, b"cf2:b": b"x" * 40})
    admin = conn.admin()
    regions = admin.list_regions("t")
    failpoints.arm(point, "exit")
    print("armed", flush=True)
    if action == "split":
        admin.split("t", b"row00100")
    elif action == "split_mid":
        admin.split("t", region=regions[1]["name"])
    elif action == "merge":
        admin.merge("t", regions[0]["name"], regions[1]["name"])
    elif action == "create":
        conn.create_table("u", {"cf": {}}, split_keys=[b"k", b"q"])
    elif action == "alter":
        conn.alter_table("t", {"cf3": {}}, delete=["cf2"])
    elif action == "truncate":
        conn.truncate_table("t")
    elif action == "delete":
        conn.disable_table("t")
        conn.delete_table("t")
    elif action == "disable":
        conn.disable_table("t")
    elif action == "enable":
        failpoints.disarm(point)
        conn.disable_table("t")
        failpoints.arm(point, "exit")
        conn.enable_table("t")
    print("finished", flush=True)
    conn.close()
    """
)

CASES = [
    ("split", "master.split.before_close"),
    ("split", "master.split.after_daughter"),
    ("split", "master.split.before_meta"),
    ("split", "engine.meta.before_write"),
    ("split", "engine.meta.after_write"),
    ("split", "master.split.after_meta"),
    ("split", "region.flush.before_manifest"),
    ("split_mid", "master.split.after_daughter"),
    ("split_mid", "master.split.after_meta"),
    ("merge", "master.merge.before_close"),
    ("merge", "master.merge.before_meta"),
    ("merge", "engine.meta.after_write"),
    ("merge", "master.merge.after_meta"),
    ("create", "master.create_table.before_meta"),
    ("create", "engine.meta.after_write"),
    ("create", "master.create_table.before_catalog"),
    ("create", "engine.catalog.before_rename"),
    ("create", "engine.catalog.after_rename"),
    ("alter", "engine.catalog.before_rename"),
    ("alter", "engine.catalog.after_rename"),
    ("truncate", "master.truncate.before_meta"),
    ("truncate", "engine.meta.after_write"),
    ("truncate", "master.truncate.after_meta"),
    ("delete", "engine.catalog.after_rename"),
    ("delete", "master.delete_table.after_catalog"),
    ("disable", "master.disable.before_catalog"),
    ("disable", "engine.catalog.after_rename"),
    ("enable", "engine.catalog.after_rename"),
    ("enable", "master.enable.before_open"),
]


def _check_tiling(admin: hedgerow.Admin, table: str) -> None:
    regions = admin.list_regions(table)
    assert regions[0]["start_key"] == b"" and regions[-1]["end_key"] == b""
    for a, b in zip(regions, regions[1:], strict=False):
        assert a["end_key"] == b["start_key"], f"gap or overlap between {a} and {b}"


@pytest.mark.parametrize(("action", "point"), CASES, ids=[f"{a}-{p}" for a, p in CASES])
def test_kill_at_each_step(tmp_path: Path, action: str, point: str) -> None:
    path = str(tmp_path / "db")
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.run(
        [sys.executable, str(script), path, action, point, str(ROWS)],
        capture_output=True,
        timeout=120,
    )
    out = proc.stdout.decode()
    assert "armed" in out, proc.stderr.decode()
    assert proc.returncode == 137, f"failpoint {point} was not reached: {out} {proc.stderr!r}"
    assert "finished" not in out

    with hedgerow.connect(path) as conn:
        tables = conn.tables()
        if action == "delete" and b"t" not in tables:
            # the delete committed: nothing of the table may be left on disk or in meta
            assert os.listdir(os.path.join(path, "tables")) == ["hbase%3Ameta"]
            assert [r for r, _ in conn.table("hbase:meta").scan(row_prefix=b"t,")] == []
            return
        assert b"t" in tables
        if not conn.is_table_enabled("t"):
            conn.enable_table("t")
        t = conn.table("t")
        rows = [r for r, _ in t.scan()]
        if action == "truncate" and not rows:
            pass  # the truncate committed
        else:
            assert rows == [b"row%05d" % i for i in range(ROWS)], f"{len(rows)} rows after crash"
            for r, data in t.scan(columns=[b"cf:a"]):
                assert data == {b"cf:a": b"%d" % int(r[3:])}
        admin = conn.admin()
        _check_tiling(admin, "t")
        if b"u" in conn.tables():
            _check_tiling(admin, "u")
            assert len(admin.list_regions("u")) == 3
        # every directory under tables/ belongs to a region the catalog lists
        on_disk = {
            (tdir, rdir)
            for tdir in os.listdir(os.path.join(path, "tables"))
            for rdir in os.listdir(os.path.join(path, "tables", tdir))
        }
        listed = {
            (name.decode(), r["name"]) for name in conn.tables() for r in admin.list_regions(name)
        }
        listed.add(("hbase%3Ameta", "0000000000"))  # the meta table's own region
        assert on_disk == listed
        # and the table still works: write, split, merge
        t.put(b"zzz", {b"cf:a": b"after"})
        regions = admin.list_regions("t")
        admin.split("t", b"row00300" if regions[-1]["start_key"] < b"row00300" else b"zz")
        regions = admin.list_regions("t")
        admin.merge("t", regions[0]["name"], regions[1]["name"])
        _check_tiling(admin, "t")
        assert t.row(b"zzz") == {b"cf:a": b"after"}
