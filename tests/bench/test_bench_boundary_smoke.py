"""Smoke tests for bench/boundary.py and bench/profile_split.py (RFC 0002's measurements).

Not timed tests: they check the exit status, the report's shape and the JSON written,
so the scripts cannot rot (docs/rfcs/0002-storage-core.md has the numbers).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(script: str, out: Path) -> str:
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "bench", script), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_boundary_quick_runs_and_writes_json(tmp_path: Path) -> None:
    out = _run("boundary.py", tmp_path)
    assert "rust_noop" in out and "crc32c" in out and "rust batch" in out
    data = json.loads((tmp_path / "boundary_quick.json").read_text())
    assert data["calls"]["rust_noop"] > 0
    assert [r["size"] for r in data["bytes"]][:2] == [16, 100]
    assert data["detach"]["detach_busy_thread_ns"] > 0
    assert [r["rows"] for r in data["rows"]] == [1, 10]


def test_profile_split_quick_runs_and_splits_every_workload(tmp_path: Path) -> None:
    out = _run("profile_split.py", tmp_path)
    assert "Python frames" in out
    data = json.loads((tmp_path / "profile_split_quick.json").read_text())
    assert set(data["workloads"]) == {"put", "putbatch", "get", "scan"}
    for name, w in data["workloads"].items():
        assert abs(sum(w["share"].values()) - 1.0) < 1e-6, name
        assert w["ops"] > 0 and w["plain_us_per_op"] > 0
    # a put inserts into the compiled memstore and frames its WAL record in the core
    assert data["workloads"]["put"]["calls_per_op"]["core"] >= 1
