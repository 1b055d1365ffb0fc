"""Compactions in a worker process (``compaction_processes``): same result as on the
background thread, and workers never outlive the serving process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import hedgerow
from hedgerow._internal.clock import ManualClock


def _load(path: str, **options: object) -> list[tuple[bytes, list[tuple[bytes, int, bytes]]]]:
    clock = ManualClock(1_700_000_000_000)
    conn = hedgerow.connect(path, clock=clock, background=False, **options)  # type: ignore[arg-type]
    try:
        conn.create_table(
            "t", {"cf": {"max_versions": 2}, "ttl": {"time_to_live": 10}}, split_keys=[b"r050"]
        )
        t = conn.table("t")
        for round_ in range(4):
            for i in range(100):
                t.put(b"r%03d" % i, {b"cf:a": b"v%d" % round_, b"ttl:x": b"t%d" % round_})
                clock.advance_ms(1)
            t.delete(b"r%03d" % (round_ * 7), columns=[b"cf:a"])
            conn.admin().flush("t")
        clock.advance_ms(9_700)  # the first rounds' ttl cells expire
        conn.admin().major_compact("t")
        regions = conn.admin().list_regions("t")
        assert all(r["store_files"] <= 2 for r in regions)  # one file per family
        return [
            (row, sorted((c.family + b":" + c.qualifier, c.timestamp, c.value) for c in cells))
            for row, cells in t.scan(max_versions=5)
        ]
    finally:
        conn.close()


def test_worker_process_compaction_keeps_what_the_thread_keeps(tmp_path: Path) -> None:
    in_thread = _load(str(tmp_path / "a"))
    in_process = _load(str(tmp_path / "b"), compaction_processes=1)
    assert in_process == in_thread
    assert len(in_thread) == 100


_CHILD = textwrap.dedent(
    """
    import sys, time, hedgerow
    conn = hedgerow.connect(sys.argv[1], compaction_processes=1, background=False)
    conn.create_table("t", {"cf": {}})
    t = conn.table("t")
    for i in range(2):
        t.put(b"r%d" % i, {b"cf:a": b"x"})
        conn.admin().flush("t")
    conn.admin().major_compact("t")
    pool = conn.backend.region_server.compaction_pool
    print(" ".join(str(p) for p in pool._executor._processes), flush=True)
    time.sleep(60)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_workers_exit_when_the_server_is_killed(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path / "db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the killed child's resource tracker complains
        text=True,
    )
    assert proc.stdout is not None
    with proc.stdout:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert pids, "the child reported no worker process"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [p for p in pids if _exists(p)]
    assert not alive, f"compaction workers {alive} outlived the killed server"


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def test_worker_compactions_need_the_local_file_system(tmp_path: Path) -> None:
    from hedgerow.engine import Engine, EngineConfig
    from hedgerow.storage.fs import LocalFS

    class Wrapped:  # any FileSystem that is not LocalFS (e.g. a remote or fault-injecting one)
        def __init__(self) -> None:
            self._fs = LocalFS()

        def __getattr__(self, name: str) -> object:
            return getattr(self._fs, name)

    cfg = EngineConfig.from_options({"compaction_processes": 1})
    with pytest.raises(hedgerow.InvalidArgument, match="compaction_processes needs the local"):
        Engine(str(tmp_path / "db"), cfg, fs=Wrapped())  # type: ignore[arg-type]
    # the refused open released the directory: it opens now without the option
    Engine(str(tmp_path / "db"), EngineConfig(), fs=Wrapped()).close()  # type: ignore[arg-type]
