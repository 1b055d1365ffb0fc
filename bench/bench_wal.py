"""The write-ahead log alone: appends per second at each durability level, 1 and 8 threads.

Usage::

    python bench/bench_wal.py                 # every case, 3 runs each
    python bench/bench_wal.py --quick         # CI smoke run (seconds)

Each case opens a fresh ``WriteAheadLog`` on ``LocalFS`` in a temp directory and has
``threads`` threads each append ``n`` one-cell edits (159-byte payload, as
docs/formats/wal.md#performance) and ``sync`` them at the durability level; prints
appends/s and how many writes and fsyncs the group commit needed (``wal.writes``,
``wal.syncs``). Measures the log's own cost (the group commit and the file I/O), without
the memstore or the region above it.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time

from hedgerow.storage.fs import LocalFS
from hedgerow.storage.wal import Durability, WriteAheadLog
from hedgerow.storage.wal_edit import WalEdit


def run_case(durability: Durability, threads: int, n: int) -> tuple[float, int, int]:
    """(appends/s, writes, syncs) for ``threads`` x ``n`` appends."""
    d = tempfile.mkdtemp(prefix="hedgerow-bench-wal-")
    try:
        wal = WriteAheadLog(LocalFS(), d + "/wal")
        value = b"v" * 100
        start = threading.Barrier(threads + 1)

        def worker(t: int) -> None:
            region = f"r{t}"
            start.wait()
            for i in range(n):
                row = b"row%012d" % (t * n + i)
                e = WalEdit(region, i, [(row, [(b"cf", b"qualifier", 1, 4, value)])])
                wal.sync(wal.append(e), durability)

        ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
        for t in ts:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in ts:
            t.join()
        dt = time.perf_counter() - t0
        writes, syncs = wal.writes, wal.syncs
        wal.close()
        return threads * n / dt, writes, syncs
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="tiny sizes for a smoke run")
    args = ap.parse_args()
    runs = 1 if args.quick else args.runs
    cases = [
        (Durability.SYNC_WAL, 1, 20_000),
        (Durability.SYNC_WAL, 8, 5_000),
        (Durability.FSYNC_WAL, 1, 2_000),
        (Durability.FSYNC_WAL, 8, 1_000),
    ]
    for durability, threads, n in cases:
        if args.quick:
            n = max(n // 20, 10)
        results = [run_case(durability, threads, n) for _ in range(runs)]
        rates = " / ".join(f"{r[0]:,.0f}" for r in results)
        io = " / ".join(f"{r[1]}w {r[2]}s" for r in results)
        print(f"{durability.name:10} {threads} thr x {n:6}: {rates} appends/s  ({io})")


if __name__ == "__main__":
    main()
