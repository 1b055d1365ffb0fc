"""Server benchmark: ``hedgerow standalone`` over RPC next to Redis and PostgreSQL on loopback.

Role: issue 7's server half. Starts every server itself on 127.0.0.1 (temp data
directories, free ports), preloads ``--n`` keys (16 random bytes, 100-byte
values), then times single gets, single puts (SYNC_WAL and FSYNC_WAL), multi-gets
of 10 keys and scans of 100 rows with 1 and ``--clients`` concurrent clients, and
the same operations on the peers; then the get/put p99 while a major compaction
runs on the Hedgerow server (issue 5), and the get latency while another client
writes as fast as it can (memstore flushes and the compactions they start).
Stops everything it started.

Method (same for every store, after ../shared/reference/peers-and-anchors.md section 3):
    * "N clients" = N threads in this one client process, each with its own
      connection (hedgerow.connect / redis.Redis / psycopg.connect); the server is a
      separate process. Each configuration: ``--warmup-s`` untimed, then
      ``--duration-s`` with every request timed; ops/s = requests / duration.
    * Keys drawn uniformly from the loaded keys (fixed seed per thread); writes
      overwrite existing keys with one random 100-byte value.
    * Durability mapping (what a write has reached when it is acknowledged):
        hedgerow SYNC_WAL  ~ redis appendonly yes, appendfsync everysec (written to
                             the OS per write, fsync once a second)
        hedgerow FSYNC_WAL ~ redis appendfsync always ~ postgres synchronous_commit=on
                             (fsync before the answer)
        postgres synchronous_commit=off acknowledges before the WAL is even written
        to the OS (walwriter, wal_writer_delay 200 ms): weaker than SYNC_WAL.
    * Redis has no ordered range scan over plain keys: its scan row is n/a.

    python bench/server.py                       # default size, < 10 min on 2 cores
    python bench/server.py --quick --no-peers    # CI smoke run (seconds)

Concurrency: the client threads share this process's GIL, as an application's would.
Hot path: hedgerow.rpc.transport.SocketTransport.call and the server's dispatch.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

import hedgerow  # noqa: E402
from hedgerow import Durability  # noqa: E402

DEFAULT_OUT = os.path.join(ROOT, "bench", "results", "2026-11-26_dev")
KEY_BYTES = 16
VALUE_BYTES = 100
COL = b"cf:v"

Op = Callable[[random.Random], object]
# make_client() -> (op, close); op is called once per request
ClientFactory = Callable[[], tuple[Op, Callable[[], None]]]


# ---------------------------------------------------------------------------- stats
def summarize(lat_s: list[float], duration_s: float) -> dict[str, Any]:
    """count, ops/s and latency quantiles in ms (nearest-rank)."""
    lat = sorted(lat_s)
    n = len(lat)
    if n == 0:
        return {"count": 0, "ops_s": 0.0}

    def q(p: float) -> float:
        return lat[min(n - 1, int(n * p))] * 1e3

    return {
        "count": n,
        "ops_s": n / duration_s if duration_s > 0 else 0.0,
        "p50_ms": q(0.50),
        "p90_ms": q(0.90),
        "p99_ms": q(0.99),
        "p999_ms": q(0.999),
        "max_ms": lat[-1] * 1e3,
        "total_s": sum(lat),
    }


def run_clients(
    factory: ClientFactory, nclients: int, warmup_s: float, duration_s: float, seed: int
) -> dict[str, Any]:
    """``nclients`` threads, each its own connection: warm up, then time every request."""
    lats: list[list[float]] = [[] for _ in range(nclients)]
    errors: list[BaseException] = []
    window: dict[str, float] = {}

    def _start() -> None:
        window["t0"] = time.perf_counter()

    barrier = threading.Barrier(nclients, action=_start)

    def worker(i: int) -> None:
        op, close = factory()
        try:
            rng = random.Random(seed * 1000 + i)
            end = time.perf_counter() + warmup_s
            while time.perf_counter() < end:
                op(rng)
            barrier.wait()
            end = window["t0"] + duration_s
            out = lats[i]
            pc = time.perf_counter
            while True:
                t0 = pc()
                if t0 >= end:
                    break
                op(rng)
                out.append(pc() - t0)
        except BaseException as e:  # reported by the caller
            errors.append(e)
            barrier.abort()
        finally:
            close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(nclients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    merged = [x for lat in lats for x in lat]
    return summarize(merged, duration_s)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(pred: Callable[[], bool], timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        with contextlib.suppress(Exception):
            if pred():
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not come up within {timeout_s:.0f} s")


# ---------------------------------------------------------------------------- hedgerow
class HedgerowServer:
    """``hedgerow standalone`` in a child process on a temp directory."""

    def __init__(self, settings: list[str]) -> None:
        self.dir = tempfile.mkdtemp(prefix="hedgerow-bench-")
        cmd = [sys.executable, "-m", "hedgerow.cli.main", "standalone", "--data", self.dir]
        cmd += ["--port", "0", "--thrift-port", "-1", "--bind", "127.0.0.1"]
        for s in settings:
            cmd += ["--set", s]
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
        self.log = open(os.path.join(self.dir, "server.stderr"), "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env
        )
        self.port = 0
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 60
        for line in self.proc.stdout:
            m = re.search(r"Hedgerow RPC on 127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
            if line.strip() == "ready" or time.monotonic() > deadline:
                break
        if not self.port:
            self.stop()
            raise RuntimeError("hedgerow standalone did not start; see its stderr")
        self.url = f"hedgerow://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def hedgerow_factories(url: str, keys: list[bytes], value: bytes) -> dict[str, Any]:
    n = len(keys)

    def client(build: Callable[[Any], Op]) -> ClientFactory:
        def make() -> tuple[Op, Callable[[], None]]:
            conn = hedgerow.connect(url, timeout_s=60.0)
            return build(conn.table("kv")), conn.close

        return make

    def get(t: Any) -> Op:
        return lambda rng: t.row(keys[rng.randrange(n)])

    def mget(t: Any) -> Op:
        return lambda rng: t.rows([keys[rng.randrange(n)] for _ in range(10)])

    def scan(t: Any) -> Op:
        return lambda rng: list(t.scan(row_start=keys[rng.randrange(n)], limit=100))

    def put(d: Durability) -> ClientFactory:
        data = {COL: value}
        return client(lambda t: lambda rng: t.put(keys[rng.randrange(n)], data, durability=d))

    return {"get": client(get), "mget": client(mget), "scan": client(scan), "put": put}


def hedgerow_load(url: str, keys: list[bytes], value: bytes, flushes: int) -> float:
    """Create table kv and load ``keys`` in batches of 1000, flushing ``flushes`` times."""
    conn = hedgerow.connect(url, timeout_s=600.0)
    try:
        conn.create_table("kv", {"cf": {}})
        t = conn.table("kv")
        t0 = time.perf_counter()
        chunk = max(1, len(keys) // max(1, flushes))
        for start in range(0, len(keys), chunk):
            with t.batch(batch_size=1000) as b:
                for k in keys[start : start + chunk]:
                    b.put(k, {COL: value})
            conn.admin().flush("kv")
        return time.perf_counter() - t0
    finally:
        conn.close()


def write_load_p99(url: str, keys: list[bytes], duration_s: float, seed: int) -> dict[str, Any]:
    """One client timing gets while another writes 1 KB rows in batches of 200 as fast as
    it can: the request path under memstore flushes (at the server's flush_size_bytes;
    ``--set flush_size_bytes=...`` makes them frequent) and the compactions they start."""
    conn = hedgerow.connect(url, timeout_s=60.0)
    t = conn.table("kv")
    n = len(keys)
    stop = threading.Event()
    written = [0]
    before = sum(r["store_files"] for r in conn.admin().status()["regions"])

    def writer() -> None:
        w = hedgerow.connect(url, timeout_s=60.0)
        wt = w.table("kv")
        big = b"w" * 1000
        i = 0
        try:
            while not stop.is_set():
                with wt.batch() as b:
                    for _ in range(200):
                        b.put(b"\xffwrite-load-%09d" % i, {COL: big})
                        i += 1
                written[0] = i
        finally:
            w.close()

    th = threading.Thread(target=writer, daemon=True)
    th.start()
    rng = random.Random(seed)
    lat: list[float] = []
    pc = time.perf_counter
    start = pc()
    end = start + duration_s
    try:
        while pc() < end:
            k = keys[rng.randrange(n)]
            t0 = pc()
            t.row(k)
            lat.append(pc() - t0)
    finally:
        stop.set()
        th.join()
    took = pc() - start
    after = sum(r["store_files"] for r in conn.admin().status()["regions"])
    conn.close()
    return {
        "duration_s": took,
        "rows_written": written[0],
        "write_rows_s": written[0] / took,
        "store_files_before": before,
        "store_files_after": after,
        "get": summarize(lat, took),
    }


def compaction_p99(
    url: str, keys: list[bytes], value: bytes, idle_s: float, seed: int
) -> dict[str, Any]:
    """One client alternating get and SYNC put: idle, then while admin.major_compact runs."""
    conn = hedgerow.connect(url, timeout_s=60.0)
    t = conn.table("kv")
    n = len(keys)
    data = {COL: value}

    def loop(until: Callable[[], bool]) -> tuple[list[float], list[float], float]:
        rng = random.Random(seed)
        g: list[float] = []
        p: list[float] = []
        pc = time.perf_counter
        start = pc()
        while not until():
            k = keys[rng.randrange(n)]
            t0 = pc()
            t.row(k)
            t1 = pc()
            t.put(k, data, durability=Durability.SYNC_WAL)
            t2 = pc()
            g.append(t1 - t0)
            p.append(t2 - t1)
        return g, p, pc() - start

    try:
        end = time.perf_counter() + idle_s
        g_idle, p_idle, d_idle = loop(lambda: time.perf_counter() >= end)
        done = threading.Event()
        result: dict[str, Any] = {}

        def compact() -> None:
            c = hedgerow.connect(url, timeout_s=1800.0)
            try:
                t0 = time.perf_counter()
                c.admin().major_compact("kv")
                result["compaction_s"] = time.perf_counter() - t0
            except BaseException as e:  # reported below
                result["error"] = repr(e)
            finally:
                c.close()
                done.set()

        th = threading.Thread(target=compact, daemon=True)
        th.start()
        g_busy, p_busy, d_busy = loop(done.is_set)
        th.join()
        if "error" in result:
            raise RuntimeError(f"major_compact failed: {result['error']}")
        return {
            "rows": n,
            "compaction_s": result["compaction_s"],
            "idle": {"get": summarize(g_idle, d_idle), "put_sync": summarize(p_idle, d_idle)},
            "during_major_compaction": {
                "get": summarize(g_busy, d_busy),
                "put_sync": summarize(p_busy, d_busy),
            },
        }
    finally:
        conn.close()


# ---------------------------------------------------------------------------- redis
class RedisServer:
    def __init__(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server not found (apt-get install redis-server)")
        import redis

        self.dir = tempfile.mkdtemp(prefix="redis-bench-")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--protected-mode", "yes"]
            + ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"]
            + ["--dir", self.dir, "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.version = subprocess.run(
            [exe, "--version"], capture_output=True, text=True
        ).stdout.strip()
        self.admin = redis.Redis(host="127.0.0.1", port=self.port)
        wait_until(lambda: bool(self.admin.ping()), 20, "redis-server")

    def set_fsync(self, mode: str) -> None:
        self.admin.config_set("appendfsync", mode)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.admin.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def redis_factories(port: int, keys: list[bytes], value: bytes) -> dict[str, ClientFactory]:
    import redis

    n = len(keys)

    def client(build: Callable[[Any], Op]) -> ClientFactory:
        def make() -> tuple[Op, Callable[[], None]]:
            r = redis.Redis(host="127.0.0.1", port=port)
            return build(r), r.close

        return make

    return {
        "get": client(lambda r: lambda rng: r.get(keys[rng.randrange(n)])),
        "put": client(lambda r: lambda rng: r.set(keys[rng.randrange(n)], value)),
        "mget": client(lambda r: lambda rng: r.mget([keys[rng.randrange(n)] for _ in range(10)])),
    }


def redis_load(port: int, keys: list[bytes], value: bytes) -> float:
    import redis

    r = redis.Redis(host="127.0.0.1", port=port)
    t0 = time.perf_counter()
    for i in range(0, len(keys), 1000):
        p = r.pipeline(transaction=False)
        for k in keys[i : i + 1000]:
            p.set(k, value)
        p.execute()
    r.close()
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------- postgres
class PostgresServer:
    """A fresh initdb cluster on a temp directory, TCP on 127.0.0.1 only."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            raise RuntimeError("postgresql not found (apt-get install postgresql)")
        import psycopg  # noqa: F401  (fail early when missing)

        self.bin = os.path.dirname(bins[-1])
        self.dir = tempfile.mkdtemp(prefix="pg-bench-")
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the cluster as user postgres
            import pwd

            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.data = os.path.join(self.dir, "data")
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self._run(
            "pg_ctl",
            "-D",
            self.data,
            "-l",
            os.path.join(self.dir, "pg.log"),
            "-w",
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir}",
            "start",
        )
        self.started = True
        self.version = self._run("postgres", "--version").strip()
        self.conninfo = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def _run(self, exe: str, *args: str) -> str:
        cmd = self.as_user + [os.path.join(self.bin, exe), *args]
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=self.dir)
        if p.returncode != 0:
            raise RuntimeError(f"{exe} failed: {p.stderr.strip()[-500:]}")
        return p.stdout

    def stop(self) -> None:
        if getattr(self, "started", False):
            with contextlib.suppress(Exception):
                self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)


def pg_factories(conninfo: str, keys: list[bytes], value: bytes) -> dict[str, Any]:
    import psycopg

    n = len(keys)

    def client(build: Callable[[Any], Op], sync: str = "on") -> ClientFactory:
        def make() -> tuple[Op, Callable[[], None]]:
            c = psycopg.connect(conninfo, autocommit=True, prepare_threshold=0)
            c.execute(f"SET synchronous_commit = {sync}")
            return build(c.cursor()), c.close

        return make

    def get(cur: Any) -> Op:
        def op(rng: random.Random) -> object:
            cur.execute("SELECT v FROM kv WHERE k = %s", (keys[rng.randrange(n)],))
            return cur.fetchone()

        return op

    def mget(cur: Any) -> Op:
        def op(rng: random.Random) -> object:
            ks = [keys[rng.randrange(n)] for _ in range(10)]
            cur.execute("SELECT k, v FROM kv WHERE k = ANY(%s)", (ks,))
            return cur.fetchall()

        return op

    def scan(cur: Any) -> Op:
        def op(rng: random.Random) -> object:
            cur.execute(
                "SELECT k, v FROM kv WHERE k >= %s ORDER BY k LIMIT 100",
                (keys[rng.randrange(n)],),
            )
            return cur.fetchall()

        return op

    def upsert(cur: Any) -> Op:
        def op(rng: random.Random) -> object:
            return cur.execute(
                "INSERT INTO kv (k, v) VALUES (%s, %s) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
                (keys[rng.randrange(n)], value),
            )

        return op

    return {
        "get": client(get),
        "mget": client(mget),
        "scan": client(scan),
        "put": lambda sync: client(upsert, sync),
    }


def pg_load(conninfo: str, keys: list[bytes], value: bytes) -> float:
    import psycopg

    t0 = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as c:
        c.execute("CREATE TABLE kv (k bytea PRIMARY KEY, v bytea)")
        with c.cursor() as cur, cur.copy("COPY kv (k, v) FROM STDIN") as cp:
            for k in keys:
                cp.write_row((k, value))
        c.execute("VACUUM ANALYZE kv")
        c.execute("CHECKPOINT")
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------- driver
def fmt_row(r: dict[str, Any]) -> str:
    def f(k: str) -> str:
        v = r.get(k)
        return f"{v:>9.3f}" if isinstance(v, float) else f"{'-':>9}"

    return (
        f"{r['store']:<9}{r['workload']:<11}{r['durability']:<17}{r['clients']:>4}"
        f"{r.get('count', 0):>9}{r.get('ops_s', 0.0):>10.0f}"
        f"{f('p50_ms')}{f('p90_ms')}{f('p99_ms')}{f('p999_ms')}{f('max_ms')}"
    )


HEADER = (
    f"{'store':<9}{'workload':<11}{'durability':<17}{'cli':>4}{'count':>9}{'ops/s':>10}"
    f"{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'p99.9 ms':>9}{'max ms':>9}"
)


def find(results: list[dict[str, Any]], **kw: Any) -> dict[str, Any] | None:
    for r in results:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def targets(results: list[dict[str, Any]], clients: int) -> list[str]:
    """Issue 7's server targets, each a ratio from this run."""
    out = []
    hg = find(results, store="hedgerow", workload="get", clients=1)
    rg = find(results, store="redis", workload="get", clients=1)
    if hg and rg:
        ratio = hg["p50_ms"] / rg["p50_ms"]
        ok = "MET" if ratio <= 1.5 else "MISSED"
        out.append(
            f"get p50, 1 client: hedgerow {hg['p50_ms']:.3f} ms / redis {rg['p50_ms']:.3f} ms"
            f" = {ratio:.2f}x (target <= 1.5x): {ok}"
        )
    if hg:
        ok = "MET" if hg["p99_ms"] < 1.0 else "MISSED"
        out.append(f"get p99, 1 client: hedgerow {hg['p99_ms']:.3f} ms (target < 1 ms): {ok}")
    hp = find(results, store="hedgerow", workload="put", durability="SYNC_WAL", clients=clients)
    pp = find(
        results, store="postgres", workload="put", durability="sync_commit=on", clients=clients
    )
    if hp and pp:
        ratio = hp["ops_s"] / pp["ops_s"]
        ok = "MET" if ratio >= 2.0 else "MISSED"
        out.append(
            f"put SYNC, {clients} clients: hedgerow {hp['ops_s']:.0f}/s / postgres upsert "
            f"sync_commit=on {pp['ops_s']:.0f}/s = {ratio:.2f}x (target >= 2x): {ok}"
        )
    hf = find(results, store="hedgerow", workload="put", durability="FSYNC_WAL", clients=clients)
    if hf and pp:
        out.append(
            f"(like for like) put FSYNC, {clients} clients: hedgerow {hf['ops_s']:.0f}/s / "
            f"postgres sync_commit=on {pp['ops_s']:.0f}/s = {hf['ops_s'] / pp['ops_s']:.2f}x"
        )
    return out


def setup_block(args: argparse.Namespace, versions: dict[str, str]) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(
        ["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "hedgerow_commit": commit,
        "n_keys": args.n,
        "key_bytes": KEY_BYTES,
        "value_bytes": VALUE_BYTES,
        "clients": [1, args.clients],
        "client_model": "threads in one client process, one connection each",
        "warmup_s": args.warmup_s,
        "duration_s": args.duration_s,
        "seed": args.seed,
        "server_set": args.set,
        # other work on the machine skews every figure: the 1-minute load average at the end
        "loadavg_1m_end": os.getloadavg()[0],
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=200_000, help="keys preloaded per store")
    ap.add_argument("--clients", type=int, default=8, help="the concurrent client count")
    ap.add_argument("--duration-s", type=float, default=4.0, help="timed seconds per config")
    ap.add_argument("--warmup-s", type=float, default=0.5, help="untimed seconds per config")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="tiny sizes for a CI smoke run")
    ap.add_argument("--no-peers", action="store_true", help="hedgerow only (no redis/postgres)")
    ap.add_argument("--peers", default="redis,postgres", help="comma list of peers to run")
    ap.add_argument("--no-compaction", action="store_true", help="skip the compaction p99 run")
    ap.add_argument(
        "--no-write-load", action="store_true", help="skip the get-latency-under-writes run"
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="engine option passed to hedgerow standalone (repeatable)",
    )
    ap.add_argument("--out", default=DEFAULT_OUT, help="results directory (JSON + text table)")
    args = ap.parse_args(argv)
    if args.quick:
        args.n = min(args.n, 2000)
        args.clients = min(args.clients, 2)
        args.duration_s = min(args.duration_s, 0.3)
        args.warmup_s = min(args.warmup_s, 0.05)
    peers = [] if args.no_peers else [p for p in args.peers.split(",") if p]

    rng = random.Random(args.seed)
    keys = sorted({rng.randbytes(KEY_BYTES) for _ in range(args.n)})
    rng.shuffle(keys)
    value = rng.randbytes(VALUE_BYTES)
    results: list[dict[str, Any]] = []
    loads: dict[str, float] = {}
    versions: dict[str, str] = {
        "hedgerow": hedgerow.__version__ if hasattr(hedgerow, "__version__") else "?"
    }
    notes: list[str] = []
    counts = (1, args.clients)

    def bench(store: str, workload: str, durability: str, factory: ClientFactory) -> None:
        for c in counts:
            s = run_clients(factory, c, args.warmup_s, args.duration_s, args.seed)
            r = {"store": store, "workload": workload, "durability": durability, "clients": c, **s}
            results.append(r)
            print(fmt_row(r), flush=True)

    print(HEADER, flush=True)
    # Every server runs at once and each workload runs on every store back to back, so a
    # ratio compares figures taken minutes apart at most, under the same machine load.
    srv = HedgerowServer(args.set)
    rs: RedisServer | None = None
    pg: PostgresServer | None = None
    compaction: dict[str, Any] | None = None
    write_load: dict[str, Any] | None = None
    try:
        loads["hedgerow"] = hedgerow_load(srv.url, keys, value, flushes=4)
        hf = hedgerow_factories(srv.url, keys, value)
        rf: dict[str, Any] = {}
        pf: dict[str, Any] = {}
        if "redis" in peers:
            try:
                rs = RedisServer()
                import redis

                versions["redis"] = rs.version
                versions["redis-py"] = redis.__version__
                loads["redis"] = redis_load(rs.port, keys, value)
                rf = redis_factories(rs.port, keys, value)
            except Exception as e:
                notes.append(f"redis skipped: {e}")
                print(notes[-1], file=sys.stderr)
        if "postgres" in peers:
            try:
                pg = PostgresServer()
                import psycopg

                versions["postgres"] = pg.version
                versions["psycopg"] = psycopg.__version__
                loads["postgres"] = pg_load(pg.conninfo, keys, value)
                pf = pg_factories(pg.conninfo, keys, value)
            except Exception as e:
                notes.append(f"postgres skipped: {e}")
                print(notes[-1], file=sys.stderr)

        bench("hedgerow", "get", "-", hf["get"])
        if rf:
            bench("redis", "get", "-", rf["get"])
        if pf:
            bench("postgres", "get", "-", pf["get"])
        # writes acknowledged once in the OS (or earlier, for postgres sync off)
        bench("hedgerow", "put", "SYNC_WAL", hf["put"](Durability.SYNC_WAL))
        if rf:
            bench("redis", "put", "aof everysec", rf["put"])
        if pf:
            bench("postgres", "put", "sync_commit=off", pf["put"]("off"))
        # writes acknowledged after an fsync
        bench("hedgerow", "put", "FSYNC_WAL", hf["put"](Durability.FSYNC_WAL))
        if rs is not None and rf:
            rs.set_fsync("always")
            bench("redis", "put", "aof always", rf["put"])
            rs.set_fsync("everysec")
        if pf:
            bench("postgres", "put", "sync_commit=on", pf["put"]("on"))
        bench("hedgerow", "mget10", "-", hf["mget"])
        if rf:
            bench("redis", "mget10", "-", rf["mget"])
        if pf:
            bench("postgres", "mget10", "-", pf["mget"])
        bench("hedgerow", "scan100", "-", hf["scan"])
        if pf:
            bench("postgres", "scan100", "-", pf["scan"])
        for peer in (rs, pg):  # the peers sit idle from here on: stop them first
            if peer is not None:
                peer.stop()
        rs = pg = None
        if not args.no_compaction:
            compaction = compaction_p99(
                srv.url, keys, value, max(args.duration_s, 1.0 if args.quick else 5.0), args.seed
            )
        if not args.no_write_load:
            write_load = write_load_p99(
                srv.url, keys, max(args.duration_s, 1.0 if args.quick else 10.0), args.seed
            )
    finally:
        for peer in (rs, pg):
            if peer is not None:
                peer.stop()
        srv.stop()
    # ---- report
    lines = [HEADER] + [fmt_row(r) for r in results]
    lines.append("")
    lines.append(
        "load (s): "
        + ", ".join(f"{k} {v:.1f} ({args.n / v:,.0f} rows/s)" for k, v in loads.items())
    )
    tg = targets(results, args.clients)
    if tg:
        lines += ["", "Targets (issue 7, server):"] + ["  " + t for t in tg]
    if compaction is not None:
        lines += [
            "",
            f"Request latency during a major compaction ({compaction['rows']:,} rows, "
            f"took {compaction['compaction_s']:.1f} s), 1 client, get + SYNC put alternating:",
        ]
        for phase in ("idle", "during_major_compaction"):
            for op in ("get", "put_sync"):
                s = compaction[phase][op]
                if s["count"]:
                    lines.append(
                        f"  {phase:<24}{op:<9}n={s['count']:<7}p50 {s['p50_ms']:.3f}  "
                        f"p99 {s['p99_ms']:.3f}  p99.9 {s['p999_ms']:.3f}  max {s['max_ms']:.3f} ms"
                    )
                else:
                    lines.append(f"  {phase:<24}{op:<9}n=0 (compaction ended before a request)")
    if write_load is not None:
        g = write_load["get"]
        lines += [
            "",
            f"Get latency under a write load (another client writing 1 KB rows in batches of "
            f"200: {write_load['write_rows_s']:,.0f} rows/s for {write_load['duration_s']:.1f} s; "
            f"store files {write_load['store_files_before']} -> "
            f"{write_load['store_files_after']}):",
            f"  get      n={g['count']:<7}p50 {g['p50_ms']:.3f}  p99 {g['p99_ms']:.3f}  "
            f"p99.9 {g['p999_ms']:.3f}  max {g['max_ms']:.3f} ms",
        ]
    lines += [f"note: {x}" for x in notes]
    report = "\n".join(lines)
    print("\n".join(lines[len(results) + 1 :]), flush=True)

    os.makedirs(args.out, exist_ok=True)
    stem = "server_quick" if args.quick else "server"
    with open(os.path.join(args.out, stem + ".json"), "w") as fh:
        json.dump(
            {
                "setup": setup_block(args, versions),
                "results": results,
                "loads_s": loads,
                "targets": tg,
                "compaction": compaction,
                "write_load": write_load,
                "notes": notes,
            },
            fh,
            indent=1,
        )
    with open(os.path.join(args.out, stem + ".txt"), "w") as fh:
        setup = setup_block(args, versions)
        fh.write("".join(f"# {k}: {v}\n" for k, v in setup.items()) + report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
