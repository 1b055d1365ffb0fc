"""Smoke test for bench/engine.py: the quick run works and prints its table.

Not a timed test: it checks the exit status and the table's shape only
(docs/benchmarks.md has the numbers; ../shared/style.md section 2.7).
"""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_engine_bench_quick_runs_and_prints_a_table(tmp_path: object) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "bench", "engine.py"),
            "--quick",
            "--engines",
            "hedgerow,dict",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "workload" in out and "ops/s" in out
    for wl in ("fillrandom", "fillbatch", "readrandom", "readmissing", "scan"):
        assert f"{wl:12} hedgerow" in out
        assert f"{wl:12} dict" in out
    assert "Targets (issue 7)" not in out or "vs leveldb" not in out  # no peers asked for
    assert os.path.exists(os.path.join(str(tmp_path), "engine.json"))
