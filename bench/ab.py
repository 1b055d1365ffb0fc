"""A/B: the Hedgerow side of bench/engine.py's workloads on two source trees, interleaved.

Used for the before/after numbers in docs/benchmarks.md ("Profile and
optimizations"). This machine's 2 cores are shared, so one-shot timings drift by
tens of percent; this runs each workload on tree A and tree B alternately,
``--reps`` times each, in fresh subprocesses, and reports the best (highest)
ops per CPU second (``time.process_time``, all threads of the process: less
sensitive to other processes on the shared cores than wall time) of each and
the ratio B/A. Tree A is usually a ``git worktree`` of the
commit before a change; tree B the working tree.

    git worktree add --detach /tmp/base <commit>
    python bench/ab.py --a /tmp/base/src --b src --n 100000 --reps 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
METRIC = "ops_per_cpu_s"
WORKLOADS = [
    "fillrandom",
    "fillbatch",
    "readrandom",
    "readmissing",
    "readhot",
    "seekrandom",
    "scan",
]

_CHILD = r"""
import json, os, shutil, sys, tempfile, time
sys.path.insert(0, sys.argv[1])
import engine as B
wl, n = sys.argv[2], int(sys.argv[3])
d = B.Data(n, 1)
a = B.HedgerowAdapter()
base = tempfile.mkdtemp()
p = os.path.join(base, "x")
a.open(p, True)
pool = d.pool
if wl == "fillrandom":
    put = a.put()
    t0 = time.perf_counter()
    c0 = time.process_time()
    for i, k in enumerate(d.keys):
        put(k, pool[i & 1023])
    dt, ops, cpu = time.perf_counter() - t0, n, time.process_time() - c0
else:
    keys = d.keys
    t0 = time.perf_counter()
    c0 = time.process_time()
    for i in range(0, n, 1000):
        a.write_batch([(keys[j], pool[j & 1023]) for j in range(i, min(i + 1000, n))])
    dt, ops, cpu = time.perf_counter() - t0, n, time.process_time() - c0
    if wl != "fillbatch":
        a.close()
        a.open(p, False)
        get = a.get()
        t0 = time.perf_counter()
        c0 = time.process_time()
        if wl == "readrandom":
            ops = sum(1 for k in d.read if get(k) is not None)
        elif wl == "readhot":
            ops = sum(1 for k in d.hot if get(k) is not None)
        elif wl == "readmissing":
            ops = len(d.missing) - sum(1 for k in d.missing if get(k) is not None)
        elif wl == "scan":
            ops = sum(1 for _ in a.scan())
        elif wl == "seekrandom":
            ops = sum(a.seek(k, 100) for k in d.seek)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
a.close()
shutil.rmtree(base)
print(json.dumps({"ops_per_s": ops / dt, "ops_per_cpu_s": ops / cpu}))
"""


def run(src: str, wl: str, n: int) -> float:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(src))
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, HERE, wl, str(n)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])[METRIC])


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--a", required=True, help="tree A's src directory (before)")
    p.add_argument("--b", required=True, help="tree B's src directory (after)")
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--only", default=",".join(WORKLOADS))
    p.add_argument("--out", default=None, help="append the table to this file")
    args = p.parse_args()
    lines = [f"A={args.a}  B={args.b}  n={args.n:,}  best of {args.reps}, interleaved"]
    lines.append(f"{'workload':12} {'A ops/cpu-s':>12} {'B ops/cpu-s':>12} {'B/A':>6}")
    with tempfile.TemporaryDirectory():
        for wl in args.only.split(","):
            a_best = b_best = 0.0
            for _ in range(args.reps):
                a_best = max(a_best, run(args.a, wl, args.n))
                b_best = max(b_best, run(args.b, wl, args.n))
            lines.append(f"{wl:12} {a_best:>12,.0f} {b_best:>12,.0f} {b_best / a_best:>6.2f}")
            print(lines[-1], flush=True)
    if args.out:
        with open(args.out, "a") as f:
            f.write("\n".join(lines) + "\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
