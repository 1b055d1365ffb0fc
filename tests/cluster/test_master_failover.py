"""The active master process dies in the middle of a move, a split and a create-table
(issue 14, acceptance 4): real ZooKeeper, masters and 3 region servers as processes.

Each master is started with one failpoint armed (``HEDGEROW_FAILPOINTS``): it stops at
that step of its procedure, by SIGTERM (the process's stop path runs while the procedure
never finishes) or by SIGKILL. A backup takes over within the session timeout plus a few
seconds (measured and printed), rolls each procedure forward or back, and the tables
are whole: every row once, the regions tile the key space, each region open on exactly
one region server (each server's own report agrees with meta). A fresh backup is started
before each kill, so there is always one to take over.
"""

from __future__ import annotations

import os
import pathlib
import time
from typing import Any

import pytest

import hedgerow
from hedgerow.errors import HedgerowError, InvalidArgument, NotServingRegion
from hedgerow.server.local_cluster import LocalCluster

SESSION_S = 2.0
SPLITS = [b"%d" % i for i in range(1, 9)]  # 9 regions
ROWS = [b"%d-%03d" % (i, j) for i in range(10) for j in range(10)]

#: per signal: the failpoint each master dies at (move, split, create), and what its
#: successor's log says it did
PLANS = {
    # SIGTERM after the step that commits the direction: each is rolled forward
    "sigterm": (
        ("engine.assignment.after_close", "rolling forward the move"),
        ("master.split.after_meta", "rolling forward the split"),
        ("master.create_table.after_catalog", "rolling forward the create"),
    ),
    # SIGKILL before: the move and the split are rolled back, the create never happened
    "sigkill": (
        ("engine.assignment.after_closing", "rolling back the move"),
        ("master.split.after_close", "rolling back the split"),
        ("master.create_table.before_catalog", "meta rows of tables the catalog does not list"),
    ),
}


@pytest.fixture
def cluster(local_cluster: LocalCluster) -> LocalCluster:
    return local_cluster


def _wait(cond: Any, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            if cond():
                return
        except Exception:
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting until {what}")


def _locations(conn: hedgerow.Connection, table: str) -> dict[Any, str]:
    return {
        r["name"]: f"{r['server_name'].decode()}:{r['port']}" for r in conn.table(table).regions()
    }


def _spawn_master(c: LocalCluster, failpoint: str, sig: str) -> None:
    c.spawn("master", env={"HEDGEROW_FAILPOINTS": f"{failpoint}={sig}"})
    c.write_state()


def _die_and_take_over(
    c: LocalCluster, call: Any, rs: set[str], table: str, plan: tuple[str, str], sig: str
) -> hedgerow.Connection:
    """Run ``call`` (the master dies in it at ``plan[0]``); return a connection to the
    new master once it answers with every region of ``table`` on a region server and
    its log says it did ``plan[1]``; print the times."""
    what = f"{plan[0]}={sig}"
    masters = [p for p in c.procs if p.role == "master" and p.alive()]
    t0 = time.monotonic()
    with pytest.raises((HedgerowError, OSError)) as failed:  # the master died under it
        call()
    died = time.monotonic()
    print(f"\n{what}: the call failed with {failed.value!r}")
    _wait(lambda: not masters[0].alive(), 15, f"{masters[0].name} exits")
    box: list[hedgerow.Connection] = []

    def answers() -> bool:
        nc = hedgerow.connect(c.url)
        try:
            nc.tables()
        except Exception:
            nc.close()
            raise
        box.append(nc)
        return True

    _wait(answers, SESSION_S + 15, "a backup master answers")
    took = time.monotonic() - t0  # the failpoint fires within ms of the call's start
    conn = box[-1]
    _wait(
        lambda: (not _has(conn, table)) or set(_locations(conn, table).values()) <= rs,
        20,
        f"every region of {table} open on a region server",
    )
    settled = time.monotonic() - t0
    gone = [p.name for p in masters if not p.alive()]
    print(
        f"\n{what}: from the call: failed after {died - t0:.2f} s, the backup answered "
        f"after {took:.2f} s, every region on a region server after {settled:.2f} s "
        f"(session timeout {SESSION_S} s; dead: {gone})"
    )
    assert took < SESSION_S + 5
    successor = [p for p in masters if p.alive()]
    _wait(
        lambda: any(plan[1] in pathlib.Path(p.log).read_text("utf-8") for p in successor),
        10,
        f"a master's log says {plan[1]!r}",
    )
    return conn


def _has(conn: hedgerow.Connection, table: str) -> bool:
    return table in [n.decode() if isinstance(n, bytes) else n for n in conn.tables()]


def _check_whole(conn: hedgerow.Connection, table: str, rs: set[str], rows: list[bytes]) -> int:
    """Every row once, the regions tile the key space, each region open on exactly one
    server, and the servers' own reports agree with meta; returns the region count."""
    regions = conn.table(table).regions()
    assert regions[0]["start_key"] == b"" and regions[-1]["end_key"] == b""
    for a, b in zip(regions, regions[1:], strict=False):
        assert a["end_key"] == b["start_key"], (a, b)
    meta = _locations(conn, table)
    assert set(meta.values()) <= rs, meta
    hosted: dict[Any, str] = {}
    for address in sorted(rs):
        with hedgerow.connect(f"hedgerow://{address}") as dc:
            for r in dc.table(table).regions():
                assert r["name"] not in hosted, f"{r['name']!r} open on two servers"
                hosted[r["name"]] = address
    assert hosted == meta
    scanned = [k for k, _ in conn.table(table).scan()]
    assert scanned == sorted(rows), (len(scanned), len(rows))  # every row, once
    t = conn.table(table)
    assert all(t.row(k) == {b"cf:v": k} for k in rows[::7])
    return len(regions)


def _write(conn: hedgerow.Connection, table: str) -> None:
    with conn.table(table).batch() as b:
        for k in ROWS:
            b.put(k, {b"cf:v": k})


@pytest.mark.parametrize("sig", ["sigterm", "sigkill"])
def test_active_master_dies_mid_procedure(cluster: LocalCluster, sig: str) -> None:
    c = cluster
    move_plan, split_plan, create_plan = PLANS[sig]
    _spawn_master(c, move_plan[0], sig)
    _spawn_master(c, split_plan[0], sig)
    for _ in range(3):
        c.spawn("regionserver")
    c.write_state()
    rs = {p.address for p in c.procs if p.role == "regionserver"}

    conn = hedgerow.connect(c.url)
    t0 = time.monotonic()
    conn.create_table("t", {"cf": {}}, split_keys=SPLITS)
    before = _locations(conn, "t")
    assert set(before.values()) == rs, before  # opened on the region servers directly
    print(f"\n9-region table created on the region servers in {time.monotonic() - t0:.2f} s")
    _write(conn, "t")
    assert _check_whole(conn, "t", rs, ROWS) == 9

    # 1. a move: the first master dies in it
    region, src = next(iter(before.items()))
    dest = sorted(rs - {src})[0]
    conn = _die_and_take_over(
        c,
        lambda: conn.admin().move(region.decode().rsplit(",", 1)[1], dest),
        rs,
        "t",
        move_plan,
        sig,
    )
    assert _check_whole(conn, "t", rs, ROWS) == 9

    # 2. a split: the second master dies in it; a third is the backup
    _spawn_master(c, create_plan[0], sig)
    conn = _die_and_take_over(
        c, lambda: conn.admin().split("t", b"4-005"), rs, "t", split_plan, sig
    )
    n = _check_whole(conn, "t", rs, ROWS)
    assert n == (10 if sig == "sigterm" else 9), n

    # 3. a create-table: the third master dies in it; a fourth takes over (its splits
    # fail before their commit: failpoint "raise")
    _spawn_master(c, "master.split.before_meta", "raise")
    conn = _die_and_take_over(
        c,
        lambda: conn.create_table("u", {"cf": {}}, split_keys=SPLITS),
        rs,
        "u",
        create_plan,
        sig,
    )
    if sig == "sigterm":
        assert _has(conn, "u")  # rolled forward: the catalog had committed it
    else:
        assert not _has(conn, "u")  # rolled back: nothing of it is left
        conn.create_table("u", {"cf": {}}, split_keys=SPLITS)
    _write(conn, "u")
    assert _check_whole(conn, "u", rs, ROWS) == 9
    assert _check_whole(conn, "t", rs, ROWS) == n

    # and the surviving master runs every table procedure on the region servers
    # themselves (each region open on one region server after each: _check_whole)
    t1 = time.monotonic()
    with pytest.raises(HedgerowError, match="master.split.before_meta"):
        conn.admin().split("t", b"7-005")
    assert _check_whole(conn, "t", rs, ROWS) == n  # rolled back: the parent reopened
    with pytest.raises(InvalidArgument, match="not inside region"):
        conn.admin().split("t", b"5")  # a region's own start key: refused, nothing changed
    assert _check_whole(conn, "t", rs, ROWS) == n
    conn.admin().flush("t")
    conn.admin().major_compact("t")  # rewrites split daughters' files shared with parents
    names = {
        r["start_key"]: r["name"].decode().rsplit(",", 1)[1] for r in conn.table("t").regions()
    }
    merged = conn.admin().merge("t", names[b"1"], names[b"2"])
    n -= 1
    assert _check_whole(conn, "t", rs, ROWS) == n
    assert merged in [r["name"].decode().rsplit(",", 1)[1] for r in conn.table("t").regions()]
    conn.alter_table("t", {"cf": {"max_versions": 3}, "cf2": {}})
    assert sorted(conn.table("t").families()) == [b"cf", b"cf2"]
    assert _check_whole(conn, "t", rs, ROWS) == n
    conn.disable_table("t")
    for address in sorted(rs):  # unassigned on the region servers themselves
        with (
            hedgerow.connect(f"hedgerow://{address}") as dc,
            pytest.raises(NotServingRegion, match="no regions"),
        ):
            dc.table("t").regions()
    conn.enable_table("t")
    assert _check_whole(conn, "t", rs, ROWS) == n
    conn.truncate_table("u")
    assert _check_whole(conn, "u", rs, []) == 9
    conn.delete_table("u", disable=True)
    assert not _has(conn, "u")
    print(
        f"failed split, flush, major compact, merge, alter, disable, enable, truncate, "
        f"delete on the region servers: {time.monotonic() - t1:.2f} s"
    )
    conn.close()


#: more steps to die at, one master death each (slow): failpoint, action, procedure,
#: regions of the table afterwards (None: the table is absent), rows kept, and what the
#: successor's log says
MATRIX = [
    ("master.split.before_close", "sigkill", "split", 9, True, "rolling back the split"),
    ("master.split.before_meta", "sigterm", "split", 9, True, "rolling back the split"),
    ("engine.assignment.after_opening", "sigkill", "move", 9, True, "rolling forward the move"),
    ("master.merge.before_close", "sigkill", "merge", 9, True, "rolling back the merge"),
    ("master.merge.before_meta", "sigkill", "merge", 9, True, "rolling back the merge"),
    ("master.merge.after_meta", "sigterm", "merge", 8, True, "rolling forward the merge"),
    ("master.truncate.after_meta", "sigkill", "truncate", 9, False, "rolling forward the trunc"),
    ("master.disable.after_unassign", "sigkill", "disable", 9, True, "active master"),
    # compact changes no meta row (it runs on the region servers, the regions serving):
    # a successor has nothing to resume and the table is whole
    ("master.compact.before_region", "sigkill", "compact", 9, True, "active master"),
    ("master.create_table.before_meta", "sigterm", "create", None, False, "active master"),
]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("failpoint", "sig", "proc", "regions", "keeps_rows", "says"),
    MATRIX,
    ids=[f"{m[0]}={m[1]}" for m in MATRIX],
)
def test_master_dies_at_each_step(
    cluster: LocalCluster,
    failpoint: str,
    sig: str,
    proc: str,
    regions: int | None,
    keeps_rows: bool,
    says: str,
) -> None:
    c = cluster
    _spawn_master(c, failpoint, sig)
    c.spawn("master")
    for _ in range(3):
        c.spawn("regionserver")
    c.write_state()
    rs = {p.address for p in c.procs if p.role == "regionserver"}
    conn = hedgerow.connect(c.url)
    table = "u" if proc == "create" else "t"
    if proc != "create":
        conn.create_table("t", {"cf": {}}, split_keys=SPLITS)
        _write(conn, "t")
        assert _check_whole(conn, "t", rs, ROWS) == 9
    listed = conn.table("t").regions() if proc != "create" else []
    names = {r["start_key"]: r["name"].decode().rsplit(",", 1)[1] for r in listed}
    hosts = {r["start_key"]: f"{r['server_name'].decode()}:{r['port']}" for r in listed}
    calls = {
        "split": lambda: conn.admin().split("t", b"4-005"),
        "move": lambda: conn.admin().move(names[b"1"], sorted(rs - {hosts[b"1"]})[0]),
        "merge": lambda: conn.admin().merge("t", names[b"1"], names[b"2"]),
        "truncate": lambda: conn.truncate_table("t"),
        "disable": lambda: conn.disable_table("t"),
        "compact": lambda: conn.admin().major_compact("t"),
        "create": lambda: conn.create_table("u", {"cf": {}}, split_keys=SPLITS),
    }
    conn = _die_and_take_over(c, calls[proc], rs, table, (failpoint, says), sig)
    if regions is None:
        assert not _has(conn, table)
    else:
        assert conn.is_table_enabled(table)
        assert _check_whole(conn, table, rs, ROWS if keeps_rows else []) == regions
    conn.close()


def test_failed_procedures_leave_the_table_as_it_was(cluster: LocalCluster) -> None:
    """Procedures that fail before their commit (failpoints "raise" in the active
    master) leave the table whole and serving, each region back on a region server."""
    c = cluster
    failing = [
        "master.truncate.before_meta",
        "master.disable.after_unassign",
        "master.merge.before_meta",
        "master.compact.before_region",
    ]
    c.spawn("master", env={"HEDGEROW_FAILPOINTS": ",".join(f"{f}=raise" for f in failing)})
    for _ in range(3):
        c.spawn("regionserver")
    c.write_state()
    rs = {p.address for p in c.procs if p.role == "regionserver"}
    with hedgerow.connect(c.url) as conn:
        conn.create_table("t", {"cf": {}}, split_keys=SPLITS)
        _write(conn, "t")
        names = {
            r["start_key"]: r["name"].decode().rsplit(",", 1)[1] for r in conn.table("t").regions()
        }
        before = _locations(conn, "t")
        tables = os.path.join(c.root, "tables", "t")
        dirs = sorted(os.listdir(tables))
        for fp, call in [
            ("truncate", lambda: conn.truncate_table("t")),
            ("disable", lambda: conn.disable_table("t")),
            ("merge", lambda: conn.admin().merge("t", names[b"1"], names[b"2"])),
            ("compact", lambda: conn.admin().major_compact("t")),
        ]:
            with pytest.raises(HedgerowError, match=f"failpoint master.{fp}"):
                call()
            assert conn.is_table_enabled("t")
            assert _check_whole(conn, "t", rs, ROWS) == 9, fp
            assert _locations(conn, "t") == before, fp  # each region where it was
            assert sorted(os.listdir(tables)) == dirs, fp  # no new directory left
