"""The random-operation runner shared by the model-based tests: engine vs reference model.

``Runner`` issues random puts, deletes, read-modify-writes, gets, scans and
maintenance against a table and the same writes against ``reference_model.Model``;
every read is compared (``check``). tests/engine/test_model_based.py runs it as is;
tests/engine/test_model_faults.py subclasses it (its own filesystem, durability and
maintenance) through the hooks ``connect``, ``open_table`` and ``reopen``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

import hedgerow
from hedgerow._internal.clock import ManualClock
from hedgerow.errors import NotACounter

from .reference_model import MAX_TS, Family, Model

ROWS = [b"r%02d" % i for i in range(24)] + [b"r\x00x", b"\xffz"]
QUALS = [b"", b"a", b"b", b"c", b"\x00q", "é".encode()]
FAMILIES = {
    b"cf1": (dict(max_versions=3, bloom_filter_type="ROWCOL"), Family(max_versions=3)),
    b"cf2": (
        dict(max_versions=2, min_versions=1, time_to_live=30, keep_deleted_cells=False),
        Family(max_versions=2, min_versions=1, ttl_s=30),
    ),
    b"cf3": (
        dict(max_versions=1, keep_deleted_cells=True, time_to_live=60, block_size=512),
        Family(max_versions=1, ttl_s=60, keep_deleted=True),
    ),
    b"cf4": (dict(max_versions=5, time_to_live=20), Family(max_versions=5, ttl_s=20)),
}
ENGINE_OPTS: dict[str, Any] = dict(
    flush_size_bytes=4096,
    compaction_min_files=2,
    compaction_max_files=4,
    background=False,
    major_compaction_period_s=0,
)


class Runner:
    def __init__(self, seed: int, path: str, **extra: Any) -> None:
        self.opts = {**ENGINE_OPTS, **extra}
        self.rng = random.Random(seed)
        self.seed = seed
        self.path = path
        self.clock = ManualClock(1_700_000_000_000)
        self.model = Model({f: m for f, (_, m) in FAMILIES.items()})
        #: how to run this seed again (printed with every failure)
        self.replay_hint = f"HEDGEROW_MODEL_SEED={seed} pytest tests/engine/test_model_based.py"
        self.step = 0
        self.log: list[str] = []
        self.conn = self.connect()
        self.conn.create_table("t", {f.decode(): o for f, (o, _) in FAMILIES.items()})
        self.t = self.open_table()

    # ---- hooks for subclasses -------------------------------------------------------------
    def connect(self) -> Any:
        """A connection to the data directory (the engine is opened here)."""
        return hedgerow.connect(self.path, clock=self.clock, **self.opts)

    def open_table(self) -> Any:
        return self.conn.table("t")

    def reopen(self) -> None:
        """Close the connection and open the directory again (WAL replay)."""
        self.conn.close()
        self.conn = self.connect()
        self.t = self.open_table()

    # ---- random choices ----------------------------------------------------------------
    def now(self) -> int:
        return self.clock.now_ms()

    def ts(self) -> int | None:
        r = self.rng.random()
        if r < 0.45:
            return None
        return self.now() - self.rng.randrange(0, 90_000)

    def row(self) -> bytes:
        return self.rng.choice(ROWS)

    def fam(self) -> bytes:
        return self.rng.choice(list(FAMILIES))

    def qual(self) -> bytes:
        return self.rng.choice(QUALS)

    def value(self) -> bytes:
        n = self.rng.choice([0, 1, 5, 20, 100])
        return bytes(self.rng.randrange(256) for _ in range(n))

    def columns(self) -> tuple[list[bytes] | None, dict[bytes, set[bytes] | None] | None]:
        r = self.rng.random()
        if r < 0.5:
            return None, None
        cols: list[bytes] = []
        model: dict[bytes, set[bytes] | None] = {}
        for _ in range(self.rng.randint(1, 3)):
            f = self.fam()
            if self.rng.random() < 0.3:
                cols.append(f)
                model[f] = None
            else:
                q = self.qual()
                cols.append(f + b":" + q)
                cur = model.get(f, set())
                if f in model and model[f] is None:
                    continue
                assert cur is not None
                cur.add(q)
                model[f] = cur
        return cols, model

    # ---- operations ---------------------------------------------------------------------
    def check(self, what: str, got: Any, want: Any) -> None:
        if got != want:
            tail = "\n".join(self.log[-15:])
            pytest.fail(
                f"seed {self.seed} step {self.step}: {what} differs\n"
                f"engine: {got!r}\nmodel:  {want!r}\nlast operations:\n{tail}\n"
                f"replay: {self.replay_hint}"
            )

    def op_put(self) -> None:
        row, ts = self.row(), self.ts()
        data = {}
        for _ in range(self.rng.randint(1, 4)):
            data[self.fam() + b":" + self.qual()] = self.value()
        self.log.append(f"put {row!r} {data!r} ts={ts}")
        self.t.put(row, data, timestamp=ts)
        self.model.apply(
            row,
            [("put", *c.split(b":", 1), v, ts) for c, v in data.items()],
            self.now(),
        )

    def op_delete(self) -> None:
        row = self.row()
        kind = self.rng.choice(["row", "columns", "cell", "famver", "family"])
        ts = self.ts()
        if kind == "row":
            self.log.append(f"delete row {row!r} ts={ts}")
            self.t.delete(row, timestamp=ts)
            self.model.apply(row, [("delrow", ts)], self.now())
        elif kind == "columns":
            cols = [self.fam() + b":" + self.qual() for _ in range(self.rng.randint(1, 2))]
            self.log.append(f"delete columns {row!r} {cols} ts={ts}")
            self.t.delete(row, columns=cols, timestamp=ts)
            self.model.apply(row, [("delcol", *c.split(b":", 1), ts) for c in cols], self.now())
        elif kind == "family":
            f = self.fam()
            self.log.append(f"delete family {row!r} {f!r} ts={ts}")
            self.t.delete(row, columns=[f], timestamp=ts)
            self.model.apply(row, [("delfam", f, ts)], self.now())
        elif kind == "cell":
            f, q = self.fam(), self.qual()
            # half the time aim at an existing version
            if ts is not None and self.rng.random() < 0.5:
                have = self.model.get(row, {f: {q}}, self.now(), versions=5)
                if have:
                    ts = self.rng.choice(have)[2]
            self.log.append(f"delete_cell {row!r} {f + b':' + q!r} ts={ts}")
            self.t.delete_cell(row, f + b":" + q, ts)
            self.model.apply(row, [("delver", f, q, ts)], self.now())
        else:
            f = self.fam()
            ts2 = self.now() if ts is None else ts
            if self.rng.random() < 0.5:
                have = self.model.get(row, {f: None}, self.now(), versions=5)
                if have:
                    ts2 = self.rng.choice(have)[2]
            self.log.append(f"delete_family_version {row!r} {f!r} ts={ts2}")
            self.t.delete_family_version(row, f, ts2)
            self.model.apply(row, [("delfamver", f, ts2)], self.now())

    def op_mutate_row(self) -> None:
        row = self.row()
        f1, q1 = self.fam(), self.qual()
        f2, q2 = self.fam(), self.qual()
        ts = self.ts()
        put = {f1 + b":" + q1: self.value()}
        delete = [f2 + b":" + q2]
        self.log.append(f"mutate_row {row!r} put={put!r} delete={delete!r} ts={ts}")
        self.t.mutate_row(row, put=put, delete=delete, timestamp=ts)
        self.model.apply(
            row,
            [("delcol", f2, q2, ts), ("put", f1, q1, put[f1 + b":" + q1], ts)],
            self.now(),
        )

    def op_increment(self) -> None:
        row, f = self.row(), self.fam()
        q = self.rng.choice([b"n", b"m", b"a"])
        amount = self.rng.randint(-5, 10)
        now = self.now()
        cur = self.model.latest(row, f, q, now)
        self.log.append(f"increment {row!r} {f + b':' + q!r} {amount}")
        if cur is not None and len(cur.value) not in (0, 8):
            with pytest.raises(NotACounter):
                self.t.increment(row, {f + b":" + q: amount})
            return
        old = (
            0 if cur is None or cur.value == b"" else int.from_bytes(cur.value, "big", signed=True)
        )
        new = old + amount
        got = self.t.increment(row, {f + b":" + q: amount})
        self.check("increment result", got, {f + b":" + q: new})
        ts = max(cur.ts, now) if cur is not None else now
        self.model.apply(row, [("put", f, q, new.to_bytes(8, "big", signed=True), ts)], now)

    def op_append(self) -> None:
        row, f, q = self.row(), self.fam(), self.qual()
        suffix = self.value()
        now = self.now()
        cur = self.model.latest(row, f, q, now)
        self.log.append(f"append {row!r} {f + b':' + q!r} {suffix!r}")
        got = self.t.append(row, {f + b":" + q: suffix})
        new = (cur.value if cur else b"") + suffix
        self.check("append result", got, {f + b":" + q: new})
        ts = max(cur.ts, now) if cur is not None else now
        self.model.apply(row, [("put", f, q, new, ts)], now)

    def op_check_and_mutate(self) -> None:
        row, f, q = self.row(), self.fam(), self.qual()
        now = self.now()
        cur = self.model.latest(row, f, q, now)
        r = self.rng.random()
        if r < 0.3:
            expected = None
        elif r < 0.7 and cur is not None:
            expected = cur.value
        else:
            expected = self.value()
        op = self.rng.choice(["=", "=", "!=", "<", ">=", ">"]) if expected else "="
        pf, pq = self.fam(), self.qual()
        put = {pf + b":" + pq: self.value()}
        self.log.append(f"check_and_mutate {row!r} {f + b':' + q!r} {expected!r} {op} put={put!r}")
        got = self.t.check_and_mutate(row, f + b":" + q, expected, op, put=put)
        curv = None if cur is None else cur.value
        if expected is None or expected == b"":
            want = curv is None or curv == b""
        else:
            want = (
                curv is not None
                and {
                    "=": expected == curv,
                    "!=": expected != curv,
                    "<": expected < curv,
                    ">=": expected >= curv,
                    ">": expected > curv,
                }[op]
            )
        self.check("check_and_mutate result", got, want)
        if want:
            ts = now
            if cur is not None and cur.ts > now:
                ts = cur.ts
            self.model.apply(row, [("put", pf, pq, put[pf + b":" + pq], ts)], now)

    def op_get(self) -> None:
        row = self.row()
        cols, mcols = self.columns()
        versions = self.rng.choice([1, 1, 2, 5])
        min_ts, max_ts = 0, MAX_TS
        if self.rng.random() < 0.3:
            max_ts = self.now() - self.rng.randrange(0, 60_000)
        if self.rng.random() < 0.2:
            min_ts = self.now() - self.rng.randrange(0, 120_000)
            max_ts = max(max_ts, min_ts)
        self.log.append(f"get {row!r} {cols} v={versions} [{min_ts},{max_ts})")
        got = (
            [
                (c.family, c.qualifier, c.timestamp, c.value)
                for _r, cells in self.t.scan(
                    row_start=row,
                    row_stop=row,
                    stop_inclusive=True,
                    columns=cols,
                    time_range=(min_ts, max_ts),
                    max_versions=max(versions, 2),
                    raw=False,
                )
                for c in cells
            ]
            if versions > 1
            else None
        )
        if got is not None:
            want = self.model.get(row, mcols, self.now(), min_ts, max_ts, max(versions, 2))
            self.check("get (versions)", got, want)
        # happybase-shaped row()
        got_row = self.t.row(row, columns=cols, timestamp=None, include_timestamp=True)
        want_cells = self.model.get(row, mcols, self.now())
        want_row = {f + b":" + q: (v, ts) for f, q, ts, v in want_cells}
        self.check("row()", got_row, want_row)

    def op_cells(self) -> None:
        row, f, q = self.row(), self.fam(), self.qual()
        versions = self.rng.choice([None, 1, 2, 3])
        ts = None if self.rng.random() < 0.6 else self.now() - self.rng.randrange(0, 60_000)
        self.log.append(f"cells {row!r} {f + b':' + q!r} v={versions} ts={ts}")
        got = self.t.cells(
            row, f + b":" + q, versions=versions, timestamp=ts, include_timestamp=True
        )
        want = self.model.get(
            row, {f: {q}}, self.now(), 0, MAX_TS if ts is None else ts, versions or 2**31 - 1
        )
        self.check("cells()", got, [(v, t) for _f, _q, t, v in want])

    def op_scan(self) -> None:
        a, b = sorted([self.row(), self.row()])
        reverse = self.rng.random() < 0.25
        start: bytes | None = a
        stop: bytes | None = b
        if self.rng.random() < 0.2:
            start = None
        if self.rng.random() < 0.2:
            stop = None
        if reverse:
            start, stop = stop, start
        cols, mcols = self.columns()
        limit = self.rng.choice([None, None, 1, 3])
        self.log.append(f"scan {start!r}..{stop!r} reverse={reverse} cols={cols} limit={limit}")
        got = [
            (r, [(c.family, c.qualifier, c.timestamp, c.value) for c in cells])
            for r, cells in self.t.scan(
                row_start=start,
                row_stop=stop,
                columns=cols,
                limit=limit,
                reverse=reverse,
                max_versions=2,
            )
        ]
        want = self.model.scan(
            start, stop, mcols, self.now(), reverse=reverse, limit=limit, versions=2
        )
        self.check("scan", got, want)

    def op_maintenance(self) -> None:
        r = self.rng.random()
        if r < 0.35:
            self.maint_flush()
        elif r < 0.6:
            self.maint_minor_compaction()
        elif r < 0.7:
            self.maint_major_compaction()
        elif r < 0.78:
            self.maint_split()
        elif r < 0.84:
            self.maint_merge()
        else:
            self.log.append("close and reopen")
            self.reopen()

    def maint_flush(self) -> None:
        self.log.append("flush")
        self.conn.flush_table("t")

    def maint_minor_compaction(self) -> None:
        self.log.append("minor compaction")
        self.conn.compact_table("t")

    def maint_major_compaction(self) -> None:
        self.log.append("major compaction")
        self.conn.compact_table("t", major=True)
        self.model.major_compact(self.now())

    def maint_split(self) -> None:
        row = self.row()
        admin = self.conn.admin()
        regions = admin.list_regions("t")
        inside = [
            x for x in regions if x["start_key"] < row and (not x["end_key"] or row < x["end_key"])
        ]
        self.log.append(f"split at {row!r}")
        if inside and len(regions) < 6:
            admin.split("t", row)

    def maint_merge(self) -> None:
        admin = self.conn.admin()
        regions = admin.list_regions("t")
        if len(regions) > 1:
            i = self.rng.randrange(len(regions) - 1)
            self.log.append(f"merge {regions[i]['name']} + {regions[i + 1]['name']}")
            admin.merge("t", regions[i]["name"], regions[i + 1]["name"])

    def operations(self) -> list[tuple[Callable[[], None], float]]:
        """The random operations and their weights."""
        return [
            (self.op_put, 30),
            (self.op_delete, 10),
            (self.op_mutate_row, 4),
            (self.op_increment, 5),
            (self.op_append, 3),
            (self.op_check_and_mutate, 4),
            (self.op_get, 18),
            (self.op_cells, 8),
            (self.op_scan, 6),
            (self.op_maintenance, 1.2),
        ]

    def run(self, n: int) -> None:
        ops = self.operations()
        funcs = [f for f, _ in ops]
        weights = [w for _, w in ops]
        for self.step in range(n):
            if self.rng.random() < 0.3:
                self.clock.advance_ms(self.rng.randrange(0, 3000))
            self.rng.choices(funcs, weights)[0]()
        # final full comparison, then once more after reopen
        self.op_full_compare()
        self.reopen()
        self.op_full_compare()
        self.conn.close()

    def op_full_compare(self) -> None:
        got = [
            (r, [(c.family, c.qualifier, c.timestamp, c.value) for c in cells])
            for r, cells in self.t.scan(max_versions=10)
        ]
        self.check("full scan", got, self.model.scan(None, None, None, self.now(), versions=10))
