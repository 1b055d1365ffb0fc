"""Load N rows of 100-byte values, reopen, read every row back; report time and peak memory.

Issue 2's acceptance check ("one million 100-byte rows written, the directory
reopened, every row read back"). Not a timed test: run it by hand or from
bench/run.sh; results go to bench/results/.

    python bench/load_million.py --n 1000000 --out bench/results/<date>_<host>/load_million.txt
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import time

import hedgerow


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", type=int, default=1_000_000, help="rows to write (default 1,000,000)")
    p.add_argument("--value-size", type=int, default=100, help="value bytes (default 100)")
    p.add_argument("--batch", type=int, default=1000, help="rows per batch (0 = single puts)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--dir", default=None, help="data directory (default: a temp dir, removed after)"
    )
    p.add_argument("--out", default=None, help="also append the report to this file")
    args = p.parse_args()

    rng = random.Random(args.seed)
    path = args.dir or tempfile.mkdtemp(prefix="hedgerow-million-")
    keys = [b"%016x" % rng.getrandbits(64) for _ in range(args.n)]
    pool = [rng.randbytes(args.value_size) for _ in range(1024)]
    lines = [
        f"hedgerow {hedgerow.__version__}, Python {sys.version.split()[0]}, n={args.n}, "
        f"value={args.value_size} B, batch={args.batch}, dir={path}"
    ]

    t0 = time.perf_counter()
    conn = hedgerow.connect(path)
    conn.create_table("t", {"cf": {}})
    t = conn.table("t")
    if args.batch:
        for i in range(0, args.n, args.batch):
            with t.batch() as b:
                for j in range(i, min(i + args.batch, args.n)):
                    b.put(keys[j], {b"cf:v": pool[j & 1023]})
    else:
        for j, k in enumerate(keys):
            t.put(k, {b"cf:v": pool[j & 1023]})
    t_write = time.perf_counter() - t0
    t1 = time.perf_counter()
    conn.close()
    t_close = time.perf_counter() - t1
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
    lines.append(
        f"write: {t_write:.1f} s ({args.n / t_write:,.0f} rows/s); close (final flush): {t_close:.1f} s; "
        f"directory {size / 1e6:.1f} MB"
    )

    t2 = time.perf_counter()
    conn = hedgerow.connect(path)
    t_open = time.perf_counter() - t2
    t = conn.table("t")
    order = list(range(args.n))
    rng.shuffle(order)
    t3 = time.perf_counter()
    missing = 0
    for j in order:
        if t.row(keys[j]).get(b"cf:v") != pool[j & 1023]:
            missing += 1
    t_read = time.perf_counter() - t3
    t4 = time.perf_counter()
    scanned = sum(1 for _ in t.scan())
    t_scan = time.perf_counter() - t4
    conn.close()
    lines.append(
        f"reopen: {t_open:.2f} s; read every row (random order): {t_read:.1f} s "
        f"({args.n / t_read:,.0f} rows/s), {missing} missing or wrong"
    )
    lines.append(f"full scan: {scanned} rows in {t_scan:.1f} s ({scanned / t_scan:,.0f} rows/s)")
    lines.append(f"peak RSS: {_rss_mb():.0f} MB")
    report = "\n".join(lines)
    print(report)
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "a") as f:
            f.write(report + "\n")
    if args.dir is None:
        shutil.rmtree(path, ignore_errors=True)
    return 1 if missing or scanned != len(set(keys)) else 0


if __name__ == "__main__":
    sys.exit(main())
