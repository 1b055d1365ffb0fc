"""db_bench-style workloads: Hedgerow embedded next to RocksDB, LevelDB, LMDB, SQLite and a dict.

Issue 7 (engine half). Keys are distinct random 16-byte keys, values 100-byte random
values drawn from a pool of 1,024 (as in ../shared/reference/peers-and-anchors.md,
section 2); everything comes from a fixed-seed generator, so every engine sees the
same keys in the same order. Each engine runs in its own subprocess, so peak RSS
(``resource.getrusage``) is per engine.

Workloads (db_bench names; "ops" is what ops/s counts):

    fillseq      single puts in key order into a fresh store            (n puts)
    fillrandom   single puts in random order into a fresh store         (n puts)
    fillbatch    batches of 1,000 puts in random order, fresh store     (n puts)
    overwrite    single puts over existing keys of the fillbatch store  (n/5 puts)
    readrandom   gets of existing keys, random order, after close+reopen (n/5 gets)
    readmissing  gets of keys that are not there                        (n/5 gets)
    readhot      gets of random keys among 1% of the keys               (n/5 gets)
    seekrandom   seek to a random existing key, read 100 rows           (n/100 seeks)
    scan         the whole table in key order                           (rows)

The read workloads run on the store written by fillbatch + overwrite, after a
flush, close and reopen (so reads come from store files and the cache, not the
memtable). To finish within 10 minutes on 2 cores at n = 1,000,000, overwrite and
the three get workloads run over a sample of n/5 operations and seekrandom over
n/100 seeks (each reading 100 rows); the output says so. Single puts and reads
are timed in one loop each; latency is sampled on every 16th operation with
``time.perf_counter_ns`` (every batch and every seek).

Settings (durability class "in the OS per write", as in the reference):
Hedgerow ``Durability.SYNC_WAL`` (its default: one ``os.write`` per put);
RocksDB (rocksdict, ``raw_mode=True``, 10 bits/key bloom) and LevelDB (plyvel,
``bloom_filter_bits=10``) with the WAL and ``sync=False``; LMDB ``sync=False``,
``map_size`` 8 GiB, one write transaction per put or batch and one read
transaction per read workload; SQLite ``journal_mode=WAL``,
``synchronous=NORMAL``, ``INSERT OR REPLACE`` into a ``WITHOUT ROWID`` table,
autocommit per put, one transaction per batch. Everything else is library defaults.

Peers (the ``bench`` extra): ``pip install -e '.[bench]'`` installs rocksdict,
plyvel, lmdb and matplotlib. plyvel's wheel bundles LevelDB; building it from
source instead needs ``apt-get install -y libleveldb-dev``. A peer whose module
is missing is skipped with a note.

    python bench/engine.py                           # n = 1,000,000, every engine
    python bench/engine.py --quick --engines hedgerow,dict
    python bench/engine.py --only fillrandom,readrandom --engines hedgerow,leveldb
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

WORKLOADS = [
    "fillseq",
    "fillrandom",
    "fillbatch",
    "overwrite",
    "readrandom",
    "readmissing",
    "readhot",
    "seekrandom",
    "scan",
]
ENGINES = ["hedgerow", "rocksdb", "leveldb", "lmdb", "sqlite", "dict"]
PEERS = ["rocksdb", "leveldb", "lmdb", "sqlite", "dict"]
BATCH = 1000
SEEK_ROWS = 100
SAMPLE_EVERY = 16  # latency sampled on every 16th single op
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "2026-11-26_dev")

# the targets: workload -> (peer, minimum ratio); memory is "at most"
TARGETS: list[tuple[str, str, float, str]] = [
    ("fillrandom", "leveldb", 1.0, ">="),
    ("fillbatch", "rocksdb", 1.0, ">="),
    ("readrandom", "leveldb", 1.0, ">="),
    ("readmissing", "leveldb", 0.5, ">="),
    ("scan", "leveldb", 0.5, ">="),
    ("peak_rss_load_mb", "rocksdb", 1.5, "<="),
]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---- data ----------------------------------------------------------------------------------
class Data:
    """Keys, values and orders from a fixed seed (identical in every subprocess)."""

    def __init__(self, n: int, seed: int) -> None:
        rng = random.Random(seed)
        seen: set[bytes] = set()
        keys: list[bytes] = []
        while len(keys) < n:
            k = rng.randbytes(16)
            if k not in seen:
                seen.add(k)
                keys.append(k)
        self.keys = keys  # random order: the fillrandom / fillbatch order
        self.sorted_keys = sorted(keys)
        self.pool = [rng.randbytes(100) for _ in range(1024)]
        m = max(1, n // 5)
        self.n_sample = m
        self.overwrite = [keys[rng.randrange(n)] for _ in range(m)]
        self.read = [keys[rng.randrange(n)] for _ in range(m)]
        missing: list[bytes] = []
        while len(missing) < m:
            k = rng.randbytes(16)
            if k not in seen:
                missing.append(k)
        self.missing = missing
        hot = keys[: max(1, n // 100)]
        self.hot = [hot[rng.randrange(len(hot))] for _ in range(m)]
        n_seek = max(1, n // 100)
        # start keys with at least SEEK_ROWS keys after them
        last = max(1, n - SEEK_ROWS)
        self.seek = [self.sorted_keys[rng.randrange(last)] for _ in range(n_seek)]


# ---- engine adapters --------------------------------------------------------------------
class Adapter:
    name = ""
    version = ""
    settings = ""

    def open(self, path: str, fresh: bool) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def put(self) -> Callable[[bytes, bytes], Any]:
        raise NotImplementedError

    def write_batch(self, items: list[tuple[bytes, bytes]]) -> None:
        raise NotImplementedError

    def get(self) -> Callable[[bytes], bytes | None]:
        raise NotImplementedError

    def seek(self, key: bytes, n: int) -> int:
        raise NotImplementedError

    def scan(self) -> Iterable[Any]:
        raise NotImplementedError

    def reads_begin(self) -> None:
        pass

    def reads_end(self) -> None:
        pass


class HedgerowAdapter(Adapter):
    name = "hedgerow"
    settings = (
        "Durability.SYNC_WAL (default); defaults otherwise (128 MiB flush, 256 MiB block cache)"
    )

    def __init__(self) -> None:
        import hedgerow

        self.hb = hedgerow
        self.version = hedgerow.__version__

    def open(self, path: str, fresh: bool) -> None:
        self.conn = self.hb.connect(path)
        if fresh:
            self.conn.create_table("t", {"cf": {}})
        self.t = self.conn.table("t")

    def close(self) -> None:
        self.conn.close()

    def put(self) -> Callable[[bytes, bytes], Any]:
        tput = self.t.put
        return lambda k, v: tput(k, {b"cf:v": v})

    def write_batch(self, items: list[tuple[bytes, bytes]]) -> None:
        with self.t.batch() as b:
            bput = b.put
            for k, v in items:
                bput(k, {b"cf:v": v})

    def get(self) -> Callable[[bytes], bytes | None]:
        row = self.t.row
        return lambda k: row(k).get(b"cf:v")

    def seek(self, key: bytes, n: int) -> int:
        return sum(1 for _ in self.t.scan(row_start=key, limit=n))

    def scan(self) -> Iterable[Any]:
        return self.t.scan()


class RocksAdapter(Adapter):
    name = "rocksdb"
    settings = "rocksdict raw_mode, block-based table with 10 bits/key bloom, WAL sync=False"

    def __init__(self) -> None:
        import rocksdict

        self.r = rocksdict
        self.version = "rocksdict " + _dist_version("rocksdict")

    def open(self, path: str, fresh: bool) -> None:
        r = self.r
        opt = r.Options(raw_mode=True)
        opt.create_if_missing(True)
        t = r.BlockBasedOptions()
        t.set_bloom_filter(10, False)
        opt.set_block_based_table_factory(t)
        self.db = r.Rdict(path, options=opt)

    def close(self) -> None:
        self.db.flush()
        self.db.close()

    def put(self) -> Callable[[bytes, bytes], Any]:
        return self.db.put

    def write_batch(self, items: list[tuple[bytes, bytes]]) -> None:
        wb = self.r.WriteBatch(raw_mode=True)
        for k, v in items:
            wb.put(k, v)
        self.db.write(wb)

    def get(self) -> Callable[[bytes], bytes | None]:
        return self.db.get

    def seek(self, key: bytes, n: int) -> int:
        it = self.db.iter()
        it.seek(key)
        c = 0
        while c < n and it.valid():
            it.key()
            it.value()
            it.next()
            c += 1
        return c

    def scan(self) -> Iterable[Any]:
        it = self.db.iter()
        it.seek_to_first()
        while it.valid():
            yield it.key(), it.value()
            it.next()


class LevelAdapter(Adapter):
    name = "leveldb"
    settings = "plyvel, bloom_filter_bits=10, WAL sync=False"

    def __init__(self) -> None:
        import plyvel

        self.p = plyvel
        self.version = f"LevelDB {plyvel.__leveldb_version__} via plyvel {plyvel.__version__}"

    def open(self, path: str, fresh: bool) -> None:
        self.db = self.p.DB(path, create_if_missing=True, bloom_filter_bits=10)

    def close(self) -> None:
        self.db.close()

    def put(self) -> Callable[[bytes, bytes], Any]:
        return self.db.put  # sync=False is plyvel's default

    def write_batch(self, items: list[tuple[bytes, bytes]]) -> None:
        with self.db.write_batch() as wb:
            for k, v in items:
                wb.put(k, v)

    def get(self) -> Callable[[bytes], bytes | None]:
        return self.db.get

    def seek(self, key: bytes, n: int) -> int:
        c = 0
        with self.db.iterator(start=key) as it:
            for _ in it:
                c += 1
                if c >= n:
                    break
        return c

    def scan(self) -> Iterable[Any]:
        return self.db.iterator()


class LmdbAdapter(Adapter):
    name = "lmdb"
    settings = (
        "map_size 8 GiB, sync=False; one write txn per put/batch, one read txn per read workload"
    )

    def __init__(self) -> None:
        import lmdb

        self.l = lmdb
        self.version = f"LMDB {'.'.join(map(str, lmdb.version()))} via lmdb {lmdb.__version__}"
        self.txn: Any = None

    def open(self, path: str, fresh: bool) -> None:
        self.env = self.l.open(path, map_size=8 << 30, sync=False)

    def close(self) -> None:
        self.env.close()

    def put(self) -> Callable[[bytes, bytes], Any]:
        begin = self.env.begin

        def put(k: bytes, v: bytes) -> None:
            with begin(write=True) as txn:
                txn.put(k, v)

        return put

    def write_batch(self, items: list[tuple[bytes, bytes]]) -> None:
        with self.env.begin(write=True) as txn:
            for k, v in items:
                txn.put(k, v)

    def reads_begin(self) -> None:
        self.txn = self.env.begin()

    def reads_end(self) -> None:
        self.txn.abort()
        self.txn = None

    def get(self) -> Callable[[bytes], bytes | None]:
        return self.txn.get  # type: ignore[no-any-return]

    def seek(self, key: bytes, n: int) -> int:
        c = 0
        with self.txn.cursor() as cur:
            if cur.set_range(key):
                for _ in cur:
                    c += 1
                    if c >= n:
                        break
        return c

    def scan(self) -> Iterable[Any]:
        return self.txn.cursor()


class SqliteAdapter(Adapter):
    name = "sqlite"
    settings = "journal_mode=WAL, synchronous=NORMAL, WITHOUT ROWID, INSERT OR REPLACE"

    def __init__(self) -> None:
        import sqlite3

        self.s = sqlite3
        self.version = f"SQLite {sqlite3.sqlite_version}"

    def open(self, path: str, fresh: bool) -> None:
        os.makedirs(path, exist_ok=True)
        self.db = self.s.connect(os.path.join(path, "kv.db"), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID")

    def close(self) -> None:
        self.db.close()

    def put(self) -> Callable[[bytes, bytes], Any]:
        ex = self.db.execute
        sql = "INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)"
        return lambda k, v: ex(sql, (k, v))

    def write_batch(self, items: list[tuple[bytes, bytes]]) -> None:
        self.db.execute("BEGIN")
        self.db.executemany("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", items)
        self.db.execute("COMMIT")

    def get(self) -> Callable[[bytes], bytes | None]:
        ex = self.db.execute
        sql = "SELECT v FROM kv WHERE k = ?"

        def get(k: bytes) -> bytes | None:
            r = ex(sql, (k,)).fetchone()
            return None if r is None else r[0]  # type: ignore[no-any-return]

        return get

    def seek(self, key: bytes, n: int) -> int:
        rows = self.db.execute(
            "SELECT k, v FROM kv WHERE k >= ? ORDER BY k LIMIT ?", (key, n)
        ).fetchall()
        return len(rows)

    def scan(self) -> Iterable[Any]:
        return self.db.execute("SELECT k, v FROM kv ORDER BY k")


class DictAdapter(Adapter):
    """The interpreter's ceiling: a dict; seeks and scans bisect a sorted key list."""

    name = "dict"
    settings = "dict; sorted key list built at reopen for seek/scan"

    def __init__(self) -> None:
        self.version = "Python " + platform.python_version()
        self.stores: dict[str, dict[bytes, bytes]] = {}
        self.d: dict[bytes, bytes] = {}
        self.sk: list[bytes] = []

    def open(self, path: str, fresh: bool) -> None:
        if fresh:
            self.stores[path] = {}
        self.d = self.stores[path]
        self.sk = sorted(self.d)

    def close(self) -> None:
        self.sk = []

    def put(self) -> Callable[[bytes, bytes], Any]:
        return self.d.__setitem__

    def write_batch(self, items: list[tuple[bytes, bytes]]) -> None:
        self.d.update(items)

    def get(self) -> Callable[[bytes], bytes | None]:
        return self.d.get

    def seek(self, key: bytes, n: int) -> int:
        i = bisect.bisect_left(self.sk, key)
        d = self.d
        c = 0
        for k in self.sk[i : i + n]:
            d[k]
            c += 1
        return c

    def scan(self) -> Iterator[tuple[bytes, bytes]]:
        d = self.d
        for k in self.sk:
            yield k, d[k]


ADAPTERS: dict[str, Callable[[], Adapter]] = {
    "hedgerow": HedgerowAdapter,
    "rocksdb": RocksAdapter,
    "leveldb": LevelAdapter,
    "lmdb": LmdbAdapter,
    "sqlite": SqliteAdapter,
    "dict": DictAdapter,
}


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    try:
        return version(name)
    except Exception:
        return "?"


# ---- timing --------------------------------------------------------------------------------
def _pct(samples: list[int], q: float) -> float:
    """Percentile in microseconds from nanosecond samples."""
    if not samples:
        return float("nan")
    s = sorted(samples)
    return s[min(len(s) - 1, int(q * len(s)))] / 1000.0


def _result(ops: int, secs: float, lat: list[int], unit: str, note: str = "") -> dict[str, Any]:
    return {
        "ops": ops,
        "seconds": secs,
        "ops_per_s": ops / secs if secs > 0 else float("nan"),
        "p50_us": _pct(lat, 0.50),
        "p99_us": _pct(lat, 0.99),
        "latency_samples": len(lat),
        "unit": unit,
        "note": note,
    }


def _run_puts(
    put: Callable[[bytes, bytes], Any], keys: list[bytes], pool: list[bytes]
) -> tuple[float, list[int]]:
    lat: list[int] = []
    clock = time.perf_counter_ns
    t0 = time.perf_counter()
    for i, k in enumerate(keys):
        if i % SAMPLE_EVERY:
            put(k, pool[i & 1023])
        else:
            a = clock()
            put(k, pool[i & 1023])
            lat.append(clock() - a)
    return time.perf_counter() - t0, lat


def _run_gets(
    get: Callable[[bytes], bytes | None], keys: list[bytes]
) -> tuple[float, list[int], int]:
    lat: list[int] = []
    clock = time.perf_counter_ns
    found = 0
    t0 = time.perf_counter()
    for i, k in enumerate(keys):
        if i % SAMPLE_EVERY:
            if get(k) is not None:
                found += 1
        else:
            a = clock()
            v = get(k)
            lat.append(clock() - a)
            if v is not None:
                found += 1
    return time.perf_counter() - t0, lat, found


def worker(engine: str, n: int, only: list[str], seed: int, base_dir: str) -> dict[str, Any]:
    """Run the selected workloads on one engine (in this process); return the results."""
    t_gen = time.perf_counter()
    data = Data(n, seed)
    gen_s = time.perf_counter() - t_gen
    a = ADAPTERS[engine]()
    res: dict[str, Any] = {
        "engine": engine,
        "version": a.version,
        "settings": a.settings,
        "n": n,
        "rss_harness_mb": _rss_mb(),
        "invariants": os.environ.get("HEDGEROW_INVARIANTS", "") not in ("", "0"),
        "datagen_s": gen_s,
        "workloads": {},
    }
    w = res["workloads"]
    pool = data.pool
    t_start = time.perf_counter()

    def fresh(name: str) -> str:
        p = os.path.join(base_dir, name)
        shutil.rmtree(p, ignore_errors=True)
        return p

    for name, keys in (("fillseq", data.sorted_keys), ("fillrandom", data.keys)):
        if name in only:
            p = fresh(name)
            a.open(p, True)
            secs, lat = _run_puts(a.put(), keys, pool)
            a.close()
            w[name] = _result(len(keys), secs, lat, "puts")
            shutil.rmtree(p, ignore_errors=True)
            if isinstance(a, DictAdapter):
                a.stores.clear()
    main = os.path.join(base_dir, "main")
    need_main = any(x in only for x in WORKLOADS[2:])
    if need_main:
        fresh("main")
        a.open(main, True)
        # fillbatch always runs when any later workload does: it builds their store
        lat: list[int] = []
        keys = data.keys
        t0 = time.perf_counter()
        for i in range(0, len(keys), BATCH):
            items = [(keys[j], pool[j & 1023]) for j in range(i, min(i + BATCH, len(keys)))]
            b = time.perf_counter_ns()
            a.write_batch(items)
            lat.append(time.perf_counter_ns() - b)
        secs = time.perf_counter() - t0
        if "fillbatch" in only:
            w["fillbatch"] = _result(len(keys), secs, lat, "puts", "latency per batch of 1,000")
        if "overwrite" in only:
            secs, lat = _run_puts(a.put(), data.overwrite, pool[::-1])
            w["overwrite"] = _result(
                len(data.overwrite), secs, lat, "puts", _sample_note(n, len(data.overwrite))
            )
        res["rss_load_mb"] = _rss_mb()
        t0 = time.perf_counter()
        a.close()
        res["close_s"] = time.perf_counter() - t0
        res["disk_mb"] = (
            sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(main) for f in fs) / 1e6
        )
        t0 = time.perf_counter()
        a.open(main, False)
        res["reopen_s"] = time.perf_counter() - t0
        a.reads_begin()
        for name, rk in (
            ("readrandom", data.read),
            ("readmissing", data.missing),
            ("readhot", data.hot),
        ):
            if name in only:
                secs, lat, found = _run_gets(a.get(), rk)
                expect = 0 if name == "readmissing" else len(rk)
                if found != expect:
                    raise SystemExit(
                        f"{engine} {name}: found {found} of {len(rk)}, expected {expect}"
                    )
                w[name] = _result(len(rk), secs, lat, "gets", _sample_note(n, len(rk)))
        if "seekrandom" in only:
            lat = []
            rows = 0
            t0 = time.perf_counter()
            for k in data.seek:
                b = time.perf_counter_ns()
                rows += a.seek(k, SEEK_ROWS)
                lat.append(time.perf_counter_ns() - b)
            secs = time.perf_counter() - t0
            if rows != len(data.seek) * SEEK_ROWS:
                raise SystemExit(f"{engine} seekrandom: read {rows} rows")
            r = _result(len(data.seek), secs, lat, "seeks", f"{len(data.seek):,} seeks x 100 rows")
            r["rows_per_s"] = rows / secs
            w["seekrandom"] = r
        if "scan" in only:
            t0 = time.perf_counter()
            rows = sum(1 for _ in a.scan())
            secs = time.perf_counter() - t0
            if rows != n:
                raise SystemExit(f"{engine} scan: {rows} rows, expected {n}")
            w["scan"] = _result(rows, secs, [], "rows", "one pass over the whole table")
        a.reads_end()
        a.close()
        shutil.rmtree(main, ignore_errors=True)
    res["rss_peak_mb"] = _rss_mb()
    res.setdefault("rss_load_mb", res["rss_peak_mb"])
    res["wall_s"] = time.perf_counter() - t_start
    return res


def _sample_note(n: int, m: int) -> str:
    return "" if m == n else f"sample of {m:,} ops (n/{n // m})"


# ---- report --------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
    }


def _fmt(x: float) -> str:
    if x != x:  # nan
        return "-"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def report(results: dict[str, Any]) -> str:
    runs = results["engines"]
    names = [e for e in ENGINES if e in runs]
    lines = []
    m = results["machine"]
    lines.append(
        f"engine benchmark  n={results['n']:,}  keys 16 B random, values 100 B (pool 1,024)  "
        f"seed={results['seed']}"
    )
    lines.append(
        f"machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}, Python {m['python']}"
    )
    for e in names:
        r = runs[e]
        lines.append(f"  {e:9} {r['version']}; {r['settings']}")
    lines.append("")
    head = (
        f"{'workload':12} {'engine':9} {'ops/s':>12} {'p50 us':>9} {'p99 us':>9} {'ops':>10}  note"
    )
    lines.append(head)
    lines.append("-" * len(head))
    for wl in WORKLOADS:
        for e in names:
            r = runs[e]["workloads"].get(wl)
            if r is None:
                continue
            extra = r["note"]
            if wl == "seekrandom":
                extra += f"; {r['rows_per_s']:,.0f} rows/s"
            lines.append(
                f"{wl:12} {e:9} {r['ops_per_s']:>12,.0f} {_fmt(r['p50_us']):>9} "
                f"{_fmt(r['p99_us']):>9} {r['ops']:>10,}  {extra}"
            )
        lines.append("")
    lines.append(
        f"{'memory':12} {'engine':9} {'harness MB':>11} {'load peak MB':>13} {'run peak MB':>12} {'disk MB':>9} {'wall s':>8}"
    )
    for e in names:
        r = runs[e]
        lines.append(
            f"{'':12} {e:9} {r['rss_harness_mb']:>11.0f} {r['rss_load_mb']:>13.0f} "
            f"{r['rss_peak_mb']:>12.0f} {r.get('disk_mb', float('nan')):>9.1f} {r['wall_s']:>8.1f}"
        )
    if "hedgerow" in runs:
        lines.append("")
        peers = [e for e in names if e != "hedgerow"]
        lines.append("Hedgerow / peer (ops/s ratio; >1 means Hedgerow is faster)")
        lines.append(f"{'workload':12} " + " ".join(f"{p:>9}" for p in peers))
        h = runs["hedgerow"]["workloads"]
        for wl in WORKLOADS:
            if wl not in h:
                continue
            cells = []
            for p in peers:
                pr = runs[p]["workloads"].get(wl)
                cells.append(f"{h[wl]['ops_per_s'] / pr['ops_per_s']:>9.3f}" if pr else f"{'-':>9}")
            lines.append(f"{wl:12} " + " ".join(cells))
        rh = runs["hedgerow"]["rss_load_mb"]
        lines.append(
            f"{'load RSS':12} "
            + " ".join(f"{rh / runs[p]['rss_load_mb']:>9.3f}" for p in peers)
            + "   (Hedgerow / peer; <1 means Hedgerow uses less)"
        )
        lines.append("")
        lines.append("Targets (issue 7)")
        for t in target_rows(results):
            lines.append(
                f"  {t['what']:34} {t['ratio']:>7.3f}  target {t['op']} {t['target']:.1f}  "
                f"{'MET' if t['met'] else 'missed'}"
            )
    return "\n".join(lines)


def target_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    runs = results["engines"]
    out = []
    if "hedgerow" not in runs:
        return out
    for wl, peer, target, op in TARGETS:
        if peer not in runs:
            continue
        if wl == "peak_rss_load_mb":
            ratio = runs["hedgerow"]["rss_load_mb"] / runs[peer]["rss_load_mb"]
            what = f"load peak RSS vs {peer}"
        else:
            h = runs["hedgerow"]["workloads"].get(wl)
            p = runs[peer]["workloads"].get(wl)
            if h is None or p is None:
                continue
            ratio = h["ops_per_s"] / p["ops_per_s"]
            what = f"{wl} vs {peer}"
        met = ratio >= target if op == ">=" else ratio <= target
        out.append(
            {
                "what": what,
                "workload": wl,
                "peer": peer,
                "ratio": ratio,
                "target": target,
                "op": op,
                "met": met,
            }
        )
    return out


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", type=int, default=1_000_000, help="keys (default 1,000,000)")
    p.add_argument("--quick", action="store_true", help="n = 20,000 (CI smoke run)")
    p.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workloads")
    p.add_argument("--engines", default=",".join(ENGINES), help="comma-separated engines")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--out", default=None, help=f"write engine.json / engine.txt here (e.g. {DEFAULT_OUT})"
    )
    p.add_argument("--dir", default=None, help="scratch directory (default: a temp dir)")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--worker-out", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    n = 20_000 if args.quick else args.n
    only = [x for x in args.only.split(",") if x]
    for x in only:
        if x not in WORKLOADS:
            p.error(f"unknown workload {x!r}; known: {', '.join(WORKLOADS)}")

    if args.worker:
        base = args.dir or tempfile.mkdtemp(prefix=f"bench-{args.worker}-")
        try:
            res = worker(args.worker, n, only, args.seed, base)
        finally:
            shutil.rmtree(base, ignore_errors=True)
        with open(args.worker_out, "w") as f:
            json.dump(res, f)
        return 0

    engines = [x for x in args.engines.split(",") if x]
    for e in engines:
        if e not in ADAPTERS:
            p.error(f"unknown engine {e!r}; known: {', '.join(ENGINES)}")
    results: dict[str, Any] = {
        "n": n,
        "seed": args.seed,
        "workloads": only,
        "machine": machine(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": " ".join(["python", "bench/engine.py", *sys.argv[1:]]),
        "engines": {},
        "skipped": {},
    }
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        for e in engines:
            out = os.path.join(tmp, f"{e}.json")
            cmd = [
                sys.executable,
                os.path.abspath(__file__),
                "--worker",
                e,
                "--n",
                str(n),
                "--only",
                ",".join(only),
                "--seed",
                str(args.seed),
                "--worker-out",
                out,
            ]
            if args.dir:
                cmd += ["--dir", os.path.join(args.dir, e)]
            t1 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                err = (proc.stderr.strip().splitlines() or ["?"])[-1]
                if "ModuleNotFoundError" in proc.stderr:
                    results["skipped"][e] = err
                    print(f"skipping {e}: {err}", file=sys.stderr)
                    continue
                print(proc.stderr, file=sys.stderr)
                print(f"{e} failed (exit {proc.returncode})", file=sys.stderr)
                return 1
            with open(out) as f:
                results["engines"][e] = json.load(f)
            print(f"{e}: done in {time.perf_counter() - t1:.1f} s", file=sys.stderr, flush=True)
    results["total_s"] = time.perf_counter() - t0
    results["targets"] = target_rows(results)
    text = report(results)
    text += f"\n\ntotal wall time {results['total_s']:.0f} s"
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "engine.json"), "w") as f:
            json.dump(results, f, indent=1)
        with open(os.path.join(args.out, "engine.txt"), "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
