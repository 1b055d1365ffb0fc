"""The table cache's cost: a block read through a CachedFile next to a plain open file.

Issue 11 (finding 4) put every store-file read that misses the block cache behind
``TableCache`` (src/hedgerow/storage/table_cache.py): one lock round and an LRU move
per ``pread`` while the handle is open, an ``open``/``close`` pair when it was evicted.
Two workloads, each a warm-up and 5 timed repetitions, every operation timed with
``time.perf_counter_ns``:

    pread      random 4 KiB preads over --files files of 1 MiB (page cache warm):
               direct   one LocalRandomAccessFile per file, all open (the old way)
               cached   through a TableCache holding every file (no evictions)
               thrash   through a TableCache of --files/4 handles (most reads reopen)
    readrandom --n/4 gets of random rows of a table whose one store holds --files
               store files (block cache off, so every get reads a block; the ROW bloom
               rules out the other files): max_open_files --files x 2 (every handle
               stays open) against --files / 4

    python bench/bench_table_cache.py --files 64 --n 20000
    python bench/bench_table_cache.py --files 64 --n 20000 --out bench/results/<dir>/bench_table_cache.txt
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import hedgerow
from hedgerow.storage.fs import LocalFS, LocalRandomAccessFile
from hedgerow.storage.table_cache import TableCache

REPS = 5


def _measure(op: Callable[[int], object], n: int) -> list[int]:
    """Latencies in ns of ``op(i)`` for i in range(n): a warm-up, then REPS repetitions."""
    for i in range(min(n, 2000)):
        op(i)
    out = []
    clock = time.perf_counter_ns
    for _rep in range(REPS):
        for i in range(n):
            t0 = clock()
            op(i)
            out.append(clock() - t0)
    return out


def _row(name: str, lat: list[int]) -> str:
    lat = sorted(lat)
    n = len(lat)

    def pct(p: float) -> float:
        return lat[min(n - 1, int(p * n))] / 1000

    return (
        f"{name:<28} {n:>8} {statistics.median(lat) / 1000:>9.1f} {pct(0.90):>9.1f} "
        f"{pct(0.99):>9.1f} {lat[-1] / 1000:>9.1f} {sum(lat) / 1e9:>8.2f}"
    )


HEADER = (
    f"{'workload / mode':<28} {'count':>8} {'median_us':>9} {'p90_us':>9} {'p99_us':>9} "
    f"{'max_us':>9} {'total_s':>8}"
)


def bench_pread(d: str, files: int, n: int, seed: int) -> list[str]:
    size = 1 << 20
    paths = []
    for i in range(files):
        p = os.path.join(d, f"f{i:04d}")
        with open(p, "wb") as f:
            f.write(os.urandom(size))
        paths.append(p)
    rng = random.Random(seed)
    picks = [(rng.randrange(files), rng.randrange(size // 4096) * 4096) for _ in range(n)]
    lines = []
    direct = [LocalRandomAccessFile(p) for p in paths]
    lines.append(_row("pread direct", _measure(lambda i: _pread(direct, picks[i]), n)))
    for f in direct:
        f.close()
    for mode, cap in (("cached", files), ("thrash", max(1, files // 4))):
        cache = TableCache(LocalFS(), cap)
        cached = [cache.open(p) for p in paths]
        lat = _measure(lambda i, c=cached: _pread(c, picks[i]), n)  # type: ignore[misc]
        st = cache.stats()
        lines.append(
            _row(f"pread {mode} (cap {cap})", lat)
            + f"   opens {st['opens']}, evictions {st['evictions']}"
        )
        for f in cached:
            f.close()
    return lines


def _pread(files: list[Any], pick: tuple[int, int]) -> bytes:
    i, off = pick
    return files[i].pread(4096, off)  # type: ignore[no-any-return]


def bench_readrandom(d: str, files: int, n: int, seed: int) -> list[str]:
    path = os.path.join(d, "db")
    opts: dict[str, Any] = dict(
        background=False, compaction_min_files=100_000, compaction_max_files=100_000
    )
    rows_per_file = 200
    conn = hedgerow.connect(path, **opts)
    conn.create_table("t", {"cf": {"block_cache_enabled": False}})
    t = conn.table("t")
    rng = random.Random(seed)
    for k in range(files):
        with t.batch() as b:
            for j in range(rows_per_file):
                b.put(b"r%04d-%04d" % (j, k), {b"cf:a": os.urandom(100)})
        conn.flush_table("t")
    conn.close()
    keys = [b"r%04d-%04d" % (rng.randrange(rows_per_file), rng.randrange(files)) for _ in range(n)]
    lines = []
    for cap in (files * 2, max(1, files // 4)):
        conn = hedgerow.connect(path, max_open_files=cap, **opts)
        t = conn.table("t")
        lat = _measure(lambda i, t=t: t.row(keys[i]), n)  # type: ignore[misc]
        st = conn.backend.region_server.table_cache.stats()  # type: ignore[attr-defined]
        lines.append(
            _row(f"readrandom max_open {cap}", lat)
            + f"   opens {st['opens']}, evictions {st['evictions']}"
        )
        conn.close()
    return lines


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--files", type=int, default=64)
    p.add_argument("--n", type=int, default=20_000, help="operations per repetition")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", default=None, help="also write the table here")
    a = p.parse_args()
    lines = [
        f"# bench_table_cache: files={a.files} n={a.n} reps={REPS} seed={a.seed}",
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}",
        HEADER,
    ]
    with tempfile.TemporaryDirectory() as d:
        lines += bench_pread(d, a.files, a.n, a.seed)
        lines += bench_readrandom(d, a.files, max(1, a.n // 4), a.seed)
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
