"""Where a put, a get and a scanned row spend their time: Python frames or the core.

RFC 0002 decides the storage core's boundary from this split. The workloads are
``bench/engine.py``'s, at a smaller n, through the public API of an embedded store:

    put        single ``Table.put`` of one 100-byte cell, random 16-byte keys, fresh store
    putbatch   ``Table.batch`` of 1,000 such puts, fresh store
    get        ``Table.row`` of an existing key (random order), after flush, close, reopen
    scan       one pass of ``Table.scan`` over the whole table (per row)

Each workload runs twice: once plainly (wall µs per op) and once under ``cProfile``.
Every profiled function's own time (``tottime``) goes into one bucket:

    core       a function or method of ``hedgerow._core`` (the Rust crate)
    syscall    os.write / os.pread / fsync / open and friends (time in the kernel + libc)
    other C    every other C function (builtins, bytes/dict methods, msgpack, xxhash,
               lz4/zstd, struct, locks)
    python:X   Python frames, by package (client, engine, region, storage, model,
               hedgerow other, stdlib)

cProfile adds a fixed cost per Python call (and less per C call), so the Python share is
an upper bound (a put runs about 4x slower under it). So each workload also runs a third
time, plainly, in a child process sampled by ``py-spy record --native`` (no per-call
cost; Rust frames visible through the release profile's debug info): its shares are the
unbiased split, cProfile's give the calls per op and the hottest functions. Results: bench/results/<date>_dev/profile_split.{json,txt}.

    python bench/profile_split.py                  # n = 50,000
    python bench/profile_split.py --quick --out /tmp/x
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import platform
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import hedgerow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH = 1000
COLUMN = b"cf:v"
SYSCALLS = (
    "posix.write",
    "posix.pwrite",
    "posix.read",
    "posix.pread",
    "posix.fsync",
    "posix.fdatasync",
    "posix.open",
    "posix.close",
    "posix.stat",
    "posix.fstat",
    "posix.rename",
    "posix.replace",
    "posix.unlink",
    "posix.listdir",
    "posix.scandir",
    "posix.mkdir",
    "posix.ftruncate",
    "fcntl.flock",
    "'read' of '_io",
    "'write' of '_io",
)
PACKAGES = ("client", "engine", "region", "storage", "model", "rpc", "server")


def bucket(key: tuple[str, int, str]) -> str:
    """The bucket of one pstats entry ``(file, line, function)``."""
    path, _, func = key
    if path == "~":  # a C function
        if "_core" in func:
            return "core"
        if any(s in func for s in SYSCALLS):
            return "syscall"
        return "other C"
    norm = path.replace(os.sep, "/")
    if "/hedgerow/" in norm:
        for p in PACKAGES:
            if f"/hedgerow/{p}/" in norm:
                return f"python:{p}"
        return "python:hedgerow other"
    return "python:stdlib"


class Workloads:
    """The four workloads over one set of keys (fixed seed, as bench/engine.py)."""

    def __init__(self, n: int, base: str) -> None:
        rng = random.Random(1)
        self.keys = list({rng.randbytes(16): None for _ in range(n)})
        self.pool = [rng.randbytes(100) for _ in range(1024)]
        self.reads = [self.keys[rng.randrange(len(self.keys))] for _ in range(max(1, n // 2))]
        self.base = base
        self.read_path = os.path.join(base, "read")

    def _fresh(self, name: str) -> hedgerow.Connection:
        p = os.path.join(self.base, name)
        shutil.rmtree(p, ignore_errors=True)
        conn = hedgerow.connect(p)
        conn.create_table("t", {"cf": {}})
        return conn

    def put(self) -> tuple[Callable[[], int], Callable[[], None]]:
        conn = self._fresh("put")
        t = conn.table("t")
        keys, pool = self.keys, self.pool

        def run() -> int:
            tput = t.put
            for i, k in enumerate(keys):
                tput(k, {COLUMN: pool[i & 1023]})
            return len(keys)

        return run, conn.close

    def putbatch(self) -> tuple[Callable[[], int], Callable[[], None]]:
        conn = self._fresh("putbatch")
        t = conn.table("t")
        keys, pool = self.keys, self.pool

        def run() -> int:
            for i in range(0, len(keys), BATCH):
                with t.batch() as b:
                    bput = b.put
                    for j in range(i, min(i + BATCH, len(keys))):
                        bput(keys[j], {COLUMN: pool[j & 1023]})
            return len(keys)

        return run, conn.close

    def build_read_store(self) -> None:
        conn = self._fresh("read")
        t = conn.table("t")
        with t.batch() as b:
            for i, k in enumerate(self.keys):
                b.put(k, {COLUMN: self.pool[i & 1023]})
        conn.flush_table("t")
        conn.close()

    def get(self) -> tuple[Callable[[], int], Callable[[], None]]:
        conn = hedgerow.connect(self.read_path)
        t = conn.table("t")
        reads = self.reads

        def run() -> int:
            row = t.row
            found = sum(1 for k in reads if COLUMN in row(k))
            if found != len(reads):
                raise SystemExit(f"get found {found} of {len(reads)}")
            return len(reads)

        return run, conn.close

    def scan(self) -> tuple[Callable[[], int], Callable[[], None]]:
        conn = hedgerow.connect(self.read_path)
        t = conn.table("t")

        def run() -> int:
            rows = sum(1 for _ in t.scan())
            if rows != len(self.keys):
                raise SystemExit(f"scan read {rows} rows of {len(self.keys)}")
            return rows

        return run, conn.close


def profile(w: Workloads, name: str, top: int) -> dict[str, Any]:
    setup: Callable[[], tuple[Callable[[], int], Callable[[], None]]] = getattr(w, name)
    run, close = setup()
    t0, c0 = time.perf_counter(), time.process_time()
    ops = run()
    plain_s, plain_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    close()
    run, close = setup()
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    run()
    prof.disable()
    prof_s = time.perf_counter() - t0
    close()
    st = pstats.Stats(prof)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = st.stats  # type: ignore[attr-defined]
    buckets: dict[str, float] = {}
    calls: dict[str, int] = {}
    for key, (_cc, nc, tt, _ct, _callers) in raw.items():
        b = bucket(key)
        buckets[b] = buckets.get(b, 0.0) + tt
        calls[b] = calls.get(b, 0) + nc
    total = sum(buckets.values()) or 1.0
    core_fns = sorted(
        ((k[2], v[1], v[2]) for k, v in raw.items() if bucket(k) == "core"),
        key=lambda x: -x[2],
    )
    hot = sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]
    return {
        "ops": ops,
        "plain_us_per_op": plain_s / ops * 1e6,
        # CPU of every thread of the process (the flush thread's work included)
        "plain_cpu_us_per_op": plain_cpu_s / ops * 1e6,
        "profiled_us_per_op": prof_s / ops * 1e6,
        "share": {b: buckets[b] / total for b in sorted(buckets, key=lambda b: -buckets[b])},
        "calls_per_op": {b: calls[b] / ops for b in sorted(calls, key=lambda b: -calls[b])},
        # absolute own time under the profiler; for C buckets close to the plain cost
        "us_per_op": {b: buckets[b] / ops * 1e6 for b in buckets},
        "core_functions": [
            {"function": f, "calls_per_op": c / ops, "share": t / total} for f, c, t in core_fns
        ],
        "top": [
            {
                "function": f"{os.path.basename(k[0])}:{k[1]}({k[2]})",
                "bucket": bucket(k),
                "share": v[2] / total,
                "calls_per_op": v[1] / ops,
            }
            for k, v in hot
        ],
    }


def _frame_bucket(frame: str) -> str | None:
    """The bucket of a sampled leaf frame ``name (file:line)`` or ``0x.. (lib.so)``."""
    if ".rs:" in frame:
        return "core"
    lib = frame[frame.rfind("(") + 1 : -1] if frame.endswith(")") else ""
    name = frame.split(" ", 1)[0]
    if lib.startswith("libc.so") or lib == "[vdso]":
        known = ("write", "pwrite", "read", "pread", "fsync", "fdatasync", "open", "close")
        return "syscall" if name.lstrip("_").rstrip("64") in known else "libc"
    if lib.startswith("libpython") or lib.endswith(".c"):
        return "interpreter C"
    if ".so" in lib:
        return "other C"
    return None  # a Python frame


def sampled_split(
    name: str, n: int, rate: int, py_spy: str, sample_s: float
) -> dict[str, Any] | None:
    """Run one workload plainly in a child under ``py-spy record --native`` and bucket the
    samples of the workload's thread by their leaf frame: Rust (``.rs`` frames anywhere
    below the workload, allocator and memcpy included), libc syscalls, other libc, the
    interpreter's own C, other extension modules, or Python (by the package of the
    deepest Python frame). Sampling adds no per-call cost, so the shares are unbiased."""
    with tempfile.TemporaryDirectory(prefix="hedgerow-spy-") as d:
        raw = os.path.join(d, "raw.txt")
        cmd = [py_spy, "record", "--native", "-r", str(rate), "-f", "raw", "-o", raw, "--"]
        cmd += [sys.executable, os.path.abspath(__file__), "--worker", name, "--n", str(n)]
        cmd += ["--sample-s", str(sample_s)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0 or not os.path.exists(raw):  # e.g. ptrace not permitted
            print(f"py-spy failed ({proc.returncode}), no sampled split: {proc.stderr[-500:]}")
            return None
        mark = [x for x in proc.stdout.splitlines() if x.startswith("WORKER_US_PER_OP=")]
        if not mark:
            raise SystemExit(f"the {name} worker printed no result: {proc.stdout[-1500:]}")
        plain_us = float(mark[-1].split("=", 1)[1])
        marker = f"Workloads.{name}.<locals>.run "
        counts: dict[str, int] = {}
        other = 0
        with open(raw) as f:
            for line in f:
                stack, _, num = line.rstrip("\n").rpartition(" ")
                frames = stack.split(";")
                at = next((i for i, fr in enumerate(frames) if fr.startswith(marker)), -1)
                if at < 0:
                    other += int(num)
                    continue
                below = frames[at + 1 :]
                b = "core" if any(".rs:" in fr for fr in below) else None
                if b is None and below:
                    b = _frame_bucket(below[-1])
                if b is None:
                    py = [bucket(("/" + fr[fr.rfind("(") + 1 :], 0, fr)) for fr in below]
                    py = [x for x in py if x.startswith("python:")] or ["python:workload loop"]
                    b = py[-1]
                counts[b] = counts.get(b, 0) + int(num)
    total = sum(counts.values()) or 1
    return {
        "plain_us_per_op": plain_us,
        "samples": total,
        "samples_elsewhere": other,
        "share": {b: counts[b] / total for b in sorted(counts, key=lambda b: -counts[b])},
    }


def worker(name: str, n: int, min_s: float) -> None:
    """``--worker``: build and run one workload without a profiler; print µs per op.
    Read workloads run again over the same store until ``min_s`` seconds have passed."""
    base = tempfile.mkdtemp(prefix="hedgerow-profile-")
    try:
        w = Workloads(n, base)
        if name in ("get", "scan"):
            w.build_read_store()
        run, close = getattr(w, name)()
        t0 = time.perf_counter()
        ops = run()
        # reads repeat (same store) until the sampler has seen about min_s seconds
        while name in ("get", "scan") and time.perf_counter() - t0 < min_s:
            ops += run()
        secs = time.perf_counter() - t0
        close()
        print(f"WORKER_US_PER_OP={secs / ops * 1e6}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def report(res: dict[str, Any]) -> str:
    lines = [
        f"Profile split, n = {res['n']:,} ({res['machine']}, Python {res['python']}); "
        "share of cProfile's own time per bucket",
        f"load average {res['load_average'][0]:.1f} (2 shared cores: absolute times vary)",
    ]
    for name, r in res["workloads"].items():
        py = sum(v for b, v in r["share"].items() if b.startswith("python:"))
        py_calls = sum(v for b, v in r["calls_per_op"].items() if b.startswith("python:"))
        lines += [
            "",
            f"{name}: {r['ops']:,} ops, {r['plain_us_per_op']:.2f} µs/op plain "
            f"({r['plain_cpu_us_per_op']:.2f} µs CPU), "
            f"{r['profiled_us_per_op']:.2f} µs/op profiled; Python frames {py:.0%} "
            f"({py_calls:.1f} Python calls/op), core {r['share'].get('core', 0.0):.1%} "
            f"({r['calls_per_op'].get('core', 0.0):.2f} core calls/op)",
        ]
        lines.append("  bucket                    share   calls/op  µs/op profiled")
        lines += [
            f"  {b:<24}{s:>7.1%}{r['calls_per_op'].get(b, 0):>11.2f}"
            f"{r['us_per_op'].get(b, 0):>16.2f}"
            for b, s in r["share"].items()
        ]
        sm = res.get("sampled", {}).get(name)
        if sm:
            lines.append(
                f"  sampled (py-spy --native, {sm['samples']:,} samples, plain "
                f"{sm['plain_us_per_op']:.2f} µs/op): "
                + ", ".join(f"{b} {v:.1%}" for b, v in sm["share"].items())
            )
        lines.append("  hottest functions (own time):")
        lines += [
            f"    {h['share']:>6.1%}  {h['calls_per_op']:>6.2f}/op  {h['function'][:90]}"
            for h in r["top"]
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--quick", action="store_true", help="n = 2,000 (smoke test)")
    ap.add_argument("--only", default="put,putbatch,get,scan")
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--out", help="directory for the results (default bench/results/<date>_dev)")
    ap.add_argument("--no-sample", action="store_true", help="skip the py-spy sampled split")
    ap.add_argument("--rate", type=int, default=499, help="py-spy samples per second")
    ap.add_argument("--sample-s", type=float, default=4.0, help="sampled read run length")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.n, args.sample_s)
        return 0
    n = 2_000 if args.quick else args.n
    out_dir = args.out or os.path.join(
        ROOT, "bench", "results", f"{dt.date.today().isoformat()}_dev"
    )
    os.makedirs(out_dir, exist_ok=True)
    only = [s for s in args.only.split(",") if s]
    res: dict[str, Any] = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "python": platform.python_version(),
        "n": n,
        "load_average": os.getloadavg(),
        "workloads": {},
    }
    base = tempfile.mkdtemp(prefix="hedgerow-profile-")
    try:
        w = Workloads(n, base)
        if any(x in only for x in ("get", "scan")):
            w.build_read_store()
        for name in ("put", "putbatch", "get", "scan"):
            if name in only:
                res["workloads"][name] = profile(w, name, args.top)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    py_spy = shutil.which("py-spy") or shutil.which(
        os.path.join(os.path.dirname(sys.executable), "py-spy")
    )
    if not args.no_sample and py_spy:
        # --quick samples one workload, enough to keep the code path alive
        names = ["put"] if args.quick else list(res["workloads"])
        res["sampled"] = {
            name: sampled_split(name, n, args.rate, py_spy, 0.0 if args.quick else args.sample_s)
            for name in names
        }
    elif not args.no_sample:
        print("py-spy not found: no sampled split (pip install -e '.[bench]')")
    text = report(res)
    print(text)
    stem = "profile_split_quick" if args.quick else "profile_split"
    with open(os.path.join(out_dir, f"{stem}.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(out_dir, f"{stem}.txt"), "w") as f:
        f.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
