"""Crash test: a writer process is killed with SIGKILL at random moments; nothing acknowledged is lost.

The child writes multi-family rows at SYNC_WAL durability (single puts and
batches, overwriting earlier rows now and then) with a small flush size, so
flushes and compactions run while it is killed. After each put returns it
prints the row and the write counter. After every kill the parent reopens
the directory and checks that every acknowledged row is there, whole (all
three families carry the same write counter) and at least as new as the last
acknowledged write; no row is ever half-applied. The same directory is
reused across kills, so recovery also runs on top of earlier recoveries.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import hedgerow

KILLS = int(os.environ.get("HEDGEROW_CRASH_KILLS", "20"))

CHILD = textwrap.dedent(
    """
    import os, random, sys
    import hedgerow
    path, seed, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    conn = hedgerow.connect(path, flush_size_bytes=64 * 1024, compaction_min_files=3)
    if b"t" not in conn.tables():
        conn.create_table("t", {"cf1": {}, "cf2": {"max_versions": 2}, "cf3": {"compression": "zstd"}},
                          split_keys=[b"row00300", b"row00600"])
    t = conn.table("t")
    out = sys.stdout
    n = start
    print("ready", flush=True)
    while True:
        if rng.random() < 0.15:
            rows = []
            with t.batch() as b:
                for _ in range(5):
                    n += 1
                    row = b"row%05d" % rng.randrange(0, 900)
                    tok = b"%d" % n
                    b.put(row, {b"cf1:a": tok, b"cf2:b": tok + b"x" * rng.randrange(0, 300), b"cf3:c": tok})
                    rows.append((row, n))
            for row, k in rows:
                out.write("%s %d\\n" % (row.decode(), k))
            out.flush()
        else:
            n += 1
            row = b"row%05d" % rng.randrange(0, 900)
            tok = b"%d" % n
            t.put(row, {b"cf1:a": tok, b"cf2:b": tok + b"y" * rng.randrange(0, 300), b"cf3:c": tok})
            out.write("%s %d\\n" % (row.decode(), n))
            out.flush()
    """
)


def _token(v: bytes) -> int:
    return int(v.rstrip(b"xy"))


def test_sigkill_loses_no_acknowledged_write(tmp_path: Path) -> None:
    path = str(tmp_path / "db")
    rng = random.Random(int(os.environ.get("HEDGEROW_CRASH_SEED", "7")))
    acked: dict[bytes, int] = {}
    counter = 0
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    total_acked = 0
    for kill in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, str(script), path, str(rng.randrange(1 << 30)), str(counter)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == b"ready\n", (line, proc.stderr.read() if proc.stderr else b"")
        deadline = time.monotonic() + rng.uniform(0.05, 1.0)
        os.set_blocking(proc.stdout.fileno(), False)
        buf = b""
        while time.monotonic() < deadline:
            chunk = proc.stdout.read()
            if chunk:
                buf += chunk
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        rest = proc.stdout.read()
        if rest:
            buf += rest
        err = proc.stderr.read() if proc.stderr else b""
        proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL, err.decode(errors="replace")
        for ln in buf.split(b"\n"):
            if not ln:
                continue  # an unfinished last line was never acknowledged
            row, n = ln.split()
            k = int(n)
            acked[row] = max(acked.get(row, 0), k)
            counter = max(counter, k)
            total_acked += 1
        # unacknowledged writes may have used counters up to +5 beyond
        counter += 10
        with hedgerow.connect(path) as conn:
            t = conn.table("t")
            seen = 0
            for row, data in t.scan():
                vals = {_token(data[c]) for c in (b"cf1:a", b"cf2:b", b"cf3:c") if c in data}
                assert len(data) == 3 and len(vals) == 1, f"row {row!r} half-applied: {data!r}"
                seen += 1
            for row, k in acked.items():
                data = t.row(row)
                assert data, f"kill {kill}: acknowledged row {row!r} (write {k}) is missing"
                got = {_token(v) for v in data.values()}
                assert len(got) == 1, f"row {row!r} half-applied: {data!r}"
                assert got.pop() >= k, f"row {row!r} lost its acknowledged write {k}: {data!r}"
            assert seen >= len(acked)
    assert total_acked > KILLS * 5, f"only {total_acked} writes acknowledged over {KILLS} kills"
