"""Scan throughput with server-side filters against an unfiltered full scan.

Not a test: run by hand; results go to bench/results/.

Loads ``--rows`` rows into an embedded store (2 families, 3 columns: cf1:q1,
cf1:q2, cf2:q3; 100-byte values drawn from a pool of 100, so each value is in
about 1% of the cells), flushes to store files, then times these scans through
``Table.scan`` (one warm-up, then ``--reps`` timed repetitions each):

  full      no filter
  value     ValueFilter(=, 'binary:<pool value 0>')              ~1% of cells
  scvf      SingleColumnValueFilter('cf1','q1',=,'binary:<v0>', true, true)  ~1% of rows
  prefix    PrefixFilter('<prefix of ~1% of rows, mid-table>')    ends past the prefix
  page      PageFilter(100)                                        ends after 100 rows

"cells scanned" is the number of stored cells in the rows the scan visited
(counted once per scan kind by an untimed pass whose filter is wrapped to count
``filter_row_key`` calls; every row has exactly 3 cells), so a scan that stops
early (prefix, page) is not credited with rows it never read.  "ratio" is a
scan's cells-scanned/s over the unfiltered scan's: the per-cell cost of running
the filter (1.0 = free).  p90 is interpolated between the samples
(``statistics.quantiles(..., method="inclusive")``).

    python bench/bench_filters.py --rows 100000 --out bench/results/<date>_<host>/bench_filters.txt
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from typing import Any

import hedgerow
from hedgerow.model.cell import Cell
from hedgerow.model.filters import Filter, FilterBase, ReturnCode, parse_filter
from hedgerow.model.read_spec import ReadSpec, ScanRange

COLUMNS = (b"cf1:q1", b"cf1:q2", b"cf2:q3")
POOL_SIZE = 100


class _CountingFilter(FilterBase):
    """Delegates to ``inner``; counts the rows offered (``filter_row_key`` calls)."""

    def __init__(self, inner: Filter) -> None:
        self.inner = inner
        self.rows = 0

    def reset(self) -> None:
        self.inner.reset()

    def filter_all_remaining(self) -> bool:
        return self.inner.filter_all_remaining()

    def filter_row_key(self, row: bytes) -> bool:
        self.rows += 1
        return self.inner.filter_row_key(row)

    def filter_cell(self, cell: Cell) -> ReturnCode:
        return self.inner.filter_cell(cell)

    def transform_cell(self, cell: Cell) -> Cell:
        return self.inner.transform_cell(cell)

    def has_filter_row(self) -> bool:
        return self.inner.has_filter_row()

    def filter_row_cells(self, cells: list[Cell]) -> list[Cell]:
        return self.inner.filter_row_cells(cells)

    def filter_row(self) -> bool:
        return self.inner.filter_row()

    def get_next_cell_hint(self, cell: Cell) -> Cell | None:
        return self.inner.get_next_cell_hint(cell)

    def is_family_essential(self, family: bytes) -> bool:
        return self.inner.is_family_essential(family)

    def describe(self) -> str:
        return f"Counting({self.inner.describe()})"


def _scan_once(t: Any, flt: Any) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    rows = cells = 0
    for _row, data in t.scan(filter=flt):
        rows += 1
        cells += len(data)
    return time.perf_counter() - t0, rows, cells


def _prefix_for_one_percent(keys: list[bytes]) -> bytes:
    """The prefix of the middle key whose share of the keys is closest to 1% (log scale)."""
    mid = keys[len(keys) // 2]
    target = len(keys) / 100
    best, best_err = mid, math.inf
    for n in range(1, len(mid) + 1):
        count = sum(1 for k in keys if k.startswith(mid[:n]))
        err = abs(math.log(count / target))
        if err < best_err:
            best, best_err = mid[:n], err
    return best


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rows", type=int, default=100_000, help="rows to load (default 100,000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--reps", type=int, default=5, help="timed repetitions per scan (default 5)")
    p.add_argument("--out", default=None, help="also write the report to this file")
    args = p.parse_args()
    if args.rows < 200 or args.reps < 1:
        p.error("need --rows >= 200 and --reps >= 1")

    rng = random.Random(args.seed)
    pool = [rng.randbytes(100) for _ in range(POOL_SIZE)]
    width = len(str(args.rows - 1))
    keys = [b"row%0*d" % (width, i) for i in range(args.rows)]
    path = tempfile.mkdtemp(prefix="hedgerow-bench-filters-")
    lines = [
        f"bench_filters: hedgerow {hedgerow.__version__}, Python {sys.version.split()[0]}, "
        f"{platform.machine()} {platform.system()}, {os.cpu_count()} CPUs",
        f"rows={args.rows}, families=2, columns={len(COLUMNS)} "
        f"({', '.join(c.decode() for c in COLUMNS)}), value=100 B from a pool of {POOL_SIZE}, "
        f"seed={args.seed}, reps={args.reps} (+1 warm-up)",
        f"load average at start (1/5/15 min): {_loadavg()}",
    ]
    try:
        conn = hedgerow.connect(path, background=False)
        conn.create_table("t", {"cf1": {}, "cf2": {}})
        t = conn.table("t")
        t0 = time.perf_counter()
        hits = 0
        for i in range(0, args.rows, 1000):
            with t.batch() as b:
                for key in keys[i : i + 1000]:
                    row: dict[bytes | str, bytes | str] = {}
                    for col in COLUMNS:
                        v = pool[rng.randrange(POOL_SIZE)]
                        hits += v == pool[0]
                        row[col] = v
                    b.put(key, row)
        conn.flush_table("t")
        t_load = time.perf_counter() - t0
        total_cells = args.rows * len(COLUMNS)
        lines.append(
            f"load + flush: {t_load:.1f} s ({args.rows / t_load:,.0f} rows/s); "
            f"cells holding the ValueFilter value: {hits} ({100 * hits / total_cells:.2f}%)"
        )

        target = "binary:" + pool[0].decode("latin-1").replace("'", "''")
        prefix = _prefix_for_one_percent(keys)
        scans: list[tuple[str, str | None]] = [
            ("full", None),
            ("value", f"ValueFilter(=, '{target}')"),
            ("scvf", f"SingleColumnValueFilter('cf1', 'q1', =, '{target}', true, true)"),
            ("prefix", f"PrefixFilter('{prefix.decode()}')"),
            ("page", "PageFilter(100)"),
        ]
        lines.append(f"prefix {prefix.decode()!r}; v0 = the pool's first value (100 random bytes)")

        results = []
        for name, text in scans:
            if text is None:
                scanned_rows = args.rows
            else:
                # untimed: how many rows the scan visits (below Table.scan, which
                # would copy the filter object)
                counter = _CountingFilter(parse_filter(text.encode("latin-1")))
                spec = ReadSpec(filter=counter)
                for _ in conn.backend.scan(t.name, ScanRange(), spec):
                    pass
                scanned_rows = counter.rows
            flt = None if text is None else text.encode("latin-1")
            _, rows_out, cells_out = _scan_once(t, flt)  # warm-up
            times = []
            for _ in range(args.reps):
                dt, r, c = _scan_once(t, flt)
                assert (r, c) == (rows_out, cells_out), name
                times.append(dt)
            times.sort()
            med = statistics.median(times)
            p90 = (
                statistics.quantiles(times, n=10, method="inclusive")[8]
                if len(times) > 1
                else times[0]
            )
            results.append(
                (name, rows_out, cells_out, scanned_rows * len(COLUMNS), med, p90, times[-1])
            )
        conn.close()
        by_name = {r[0]: r for r in results}
        assert by_name["value"][2] == hits, "the ValueFilter must find every cell holding v0"
        assert by_name["page"][1] == min(100, args.rows)
    finally:
        shutil.rmtree(path, ignore_errors=True)

    base_rate = results[0][3] / results[0][4]
    header = (
        f"{'scan':<7}{'rows out':>9}{'cells out':>10}{'cells scanned':>14}"
        f"{'median s':>10}{'p90 s':>9}{'max s':>9}{'rows out/s':>12}{'cells out/s':>12}"
        f"{'scanned/s':>12}{'ratio':>7}"
    )
    lines.append("")
    lines.append(header)
    lines.append("-" * len(header))
    for name, rows_out, cells_out, scanned, med, p90, mx in results:
        rate = scanned / med
        lines.append(
            f"{name:<7}{rows_out:>9,}{cells_out:>10,}{scanned:>14,}"
            f"{med:>10.4f}{p90:>9.4f}{mx:>9.4f}{rows_out / med:>12,.0f}{cells_out / med:>12,.0f}"
            f"{rate:>12,.0f}{rate / base_rate:>7.2f}"
        )
    lines.append(f"load average at end (1/5/15 min): {_loadavg()}")
    lines.append("")
    for name, text in scans:
        shown = (text or "(no filter)").replace(target, "binary:<v0>")
        lines.append(f"{name:<7}{shown}")
    report = "\n".join(lines)
    print(report)
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w") as f:
            f.write(report + "\n")
    return 0 if all(math.isfinite(r[4]) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
