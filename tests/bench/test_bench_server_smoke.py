"""Smoke test for bench/server.py: the quick run against hedgerow standalone works.

Not a timed test: it checks the exit status and the table's shape only
(docs/benchmarks.md has the numbers; ../shared/style.md section 2.7).
``--no-peers`` keeps Redis and PostgreSQL out, so CI needs neither.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_server_bench_quick_runs_and_prints_a_table(tmp_path: object) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "bench", "server.py"),
            "--quick",
            "--no-peers",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "workload" in out and "ops/s" in out and "p99 ms" in out
    for wl in ("get", "put", "mget10", "scan100"):
        assert f"hedgerow {wl:<11}" in out
    assert "SYNC_WAL" in out and "FSYNC_WAL" in out
    assert "during a major compaction" in out
    assert "Get latency under a write load" in out
    with open(os.path.join(str(tmp_path), "server_quick.json")) as f:
        data = json.load(f)
    assert {r["store"] for r in data["results"]} == {"hedgerow"}
    assert all(r["count"] > 0 for r in data["results"])
