"""happybase through the Thrift gateway next to the same operations on the embedded API.

Not a test: run by hand; results go to bench/results/.

Starts ``hedgerow thrift`` as a separate process (so client and gateway do not
share a GIL, as in a real deployment) on a fresh data directory, and opens a
second fresh store embedded in this process. Then, for each side, one warm-up
and ``--reps`` timed repetitions of:

  put        ``--n`` single-row puts (``Table.put``), one column, ``--value-size`` bytes
  batchput   the same rows through ``Table.batch()`` (happybase: one mutateRows per 1000)
  get        ``--n`` random single-row reads (``Table.row``) of rows that exist
  scan       one full scan of the ``--n`` rows (happybase: scannerGetList of 1000 rows)

Latencies are per call for put/get (per row for batchput, per scan for scan);
the table reports count, p50, p90, p99, max (ms), total seconds and throughput
(ops/s, rows/s for scan), all reps pooled. "gateway cost" is
gateway latency minus embedded latency at p50 (the time a Thrift round trip
adds to one call) and "ratio" is embedded throughput / gateway throughput.
Both stores use the default (SYNC_WAL) durability.

    python bench/bench_thrift.py --n 5000 --out bench/results/<date>_<host>/bench_thrift.txt
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import happybase

import hedgerow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))
    return xs[k]


class Stats:
    def __init__(self) -> None:
        self.lat_s: list[float] = []
        self.total_s = 0.0
        self.units = 0

    def row(self, name: str, side: str, unit: str) -> str:
        ms = [x * 1000 for x in self.lat_s]
        rate = self.units / self.total_s if self.total_s else float("nan")
        return (
            f"{name:<9} {side:<9} {len(ms):>7} {_pct(ms, 50):>9.3f} {_pct(ms, 90):>9.3f} "
            f"{_pct(ms, 99):>9.3f} {max(ms):>9.3f} {self.total_s:>8.2f} {rate:>11.0f} {unit}"
        )


def _time_calls(fn: Callable[[int], Any], n: int, st: Stats) -> None:
    t_all = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        st.lat_s.append(time.perf_counter() - t0)
    st.total_s += time.perf_counter() - t_all
    st.units += n


def run(args: argparse.Namespace) -> str:
    rng = random.Random(args.seed)
    value = bytes(rng.randrange(256) for _ in range(args.value_size))
    keys = [b"row%08d" % i for i in range(args.n)]
    reads = [rng.choice(keys) for _ in range(args.n)]
    tmp = tempfile.mkdtemp(prefix="bench_thrift_")
    port = _free_port()
    gw = subprocess.Popen(
        [sys.executable, "-m", "hedgerow.cli.main", "thrift", "--data", os.path.join(tmp, "gw")]
        + ["--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert gw.stdout is not None
    banner = gw.stdout.readline().strip()
    emb = hedgerow.connect(os.path.join(tmp, "emb"))
    hb = happybase.Connection("127.0.0.1", port)
    results: dict[tuple[str, str], Stats] = {}
    col = b"cf:q"
    try:
        for side in ("embedded", "gateway"):
            if side == "gateway":
                hb.create_table("b", {"cf": dict(max_versions=1)})
                t: Any = hb.table("b")
            else:
                emb.create_table("b", {"cf": dict(max_versions=1)})
                t = emb.table("b")
            for rep in range(args.reps + 1):  # rep 0 is the warm-up
                timed = rep > 0
                st = {
                    k: results.setdefault((k, side), Stats()) if timed else Stats()
                    for k in ("put", "batchput", "get", "scan")
                }
                _time_calls(lambda i, t=t: t.put(keys[i], {col: value}), args.n, st["put"])
                t0 = time.perf_counter()
                with t.batch(batch_size=1000) as b:
                    for k in keys:
                        b.put(k, {col: value})
                dt = time.perf_counter() - t0
                st["batchput"].lat_s.append(dt / args.n)
                st["batchput"].total_s += dt
                st["batchput"].units += args.n
                _time_calls(lambda i, t=t: t.row(reads[i]), args.n, st["get"])
                t0 = time.perf_counter()
                n = sum(1 for _ in t.scan(batch_size=1000))
                dt = time.perf_counter() - t0
                assert n == args.n, (side, n)
                st["scan"].lat_s.append(dt)
                st["scan"].total_s += dt
                st["scan"].units += n
    finally:
        hb.close()
        emb.close()
        gw.send_signal(signal.SIGTERM)
        gw.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)

    head = (
        f"{'op':<9} {'side':<9} {'count':>7} {'p50 ms':>9} {'p90 ms':>9} {'p99 ms':>9} "
        f"{'max ms':>9} {'total s':>8} {'throughput':>11}"
    )
    lines = [
        "bench_thrift: happybase 1.3.0 through `hedgerow thrift` vs the embedded API",
        f"python {platform.python_version()} on {platform.machine()} {platform.system()}, "
        f"{os.cpu_count()} cpus; n={args.n} value={args.value_size} B reps={args.reps} "
        f"seed={args.seed}",
        f"gateway: {banner}",
        "",
        head,
        "-" * len(head),
    ]
    units = {"put": "ops/s", "batchput": "rows/s", "get": "ops/s", "scan": "rows/s"}
    for op in ("put", "batchput", "get", "scan"):
        for side in ("embedded", "gateway"):
            lines.append(results[(op, side)].row(op, side, units[op]))
    lines += [
        "",
        f"{'op':<9} {'ratio (embedded/gateway throughput)':>36} {'gateway cost p50 ms':>21}",
    ]
    for op in ("put", "batchput", "get", "scan"):
        e, g = results[(op, "embedded")], results[(op, "gateway")]
        ratio = (e.units / e.total_s) / (g.units / g.total_s)
        cost = _pct([x * 1000 for x in g.lat_s], 50) - _pct([x * 1000 for x in e.lat_s], 50)
        lines.append(f"{op:<9} {ratio:>36.2f} {cost:>21.3f}")
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--n", type=int, default=5000, help="rows / calls per repetition")
    p.add_argument("--value-size", type=int, default=100)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="also write the table to this file")
    args = p.parse_args()
    text = run(args)
    sys.stdout.write(text)
    if args.out:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
