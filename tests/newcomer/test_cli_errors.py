"""Item 5 of issue #12: CLI failures are one ``ERROR:`` line on stderr, with the right status.

Bad usage (an option's value, an unknown option, a mistyped URL) exits 2; a
failure at run time (a port in use) exits 1 and names the host:port and the
option. No traceback, and no "stopped" line from a server that never started.
The CLI runs as a subprocess, as a user runs it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def hedgerow(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hedgerow.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def one_error(p: subprocess.CompletedProcess[str], status: int) -> str:
    """The single ERROR line of a failed run (checks the status, no traceback, no stop line)."""
    assert p.returncode == status, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr
    assert "stopped" not in p.stderr
    lines = p.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: "), p.stderr
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something listens on (as a clashing server would)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--set", "flush_size_bytes=abc"],
            "ERROR: --set flush_size_bytes expects an integer, got 'abc'",
        ),
        (
            ["--set", "compaction_ratio=x"],
            "ERROR: --set compaction_ratio expects a number, got 'x'",
        ),
        (["--set", "flush_size_bytes=5"], "flush_size_bytes must be >= 1024, got 5"),
        (["--set", "no_such_option=1"], "got 'no_such_option=1'"),
        (["--thrift-set", "workers=x"], "ERROR: --thrift-set workers expects a number, got 'x'"),
        (
            ["--port", "abc"],
            "ERROR: hedgerow standalone: argument --port: invalid int value: 'abc'",
        ),
    ],
)
def test_standalone_bad_option_is_usage_error(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    p = hedgerow(
        "standalone", "--data", "./d", "--port", "0", "--thrift-port", "-1", *args, cwd=tmp_path
    )
    assert expected in one_error(p, 2)
    assert not (tmp_path / "d").exists()  # refused before anything was opened


def test_standalone_rpc_port_in_use(tmp_path: Path, busy_port: int) -> None:
    p = hedgerow(
        "standalone", "--data", "./d", "--port", str(busy_port), "--thrift-port", "-1", cwd=tmp_path
    )
    line = one_error(p, 1)
    assert f"127.0.0.1:{busy_port} (Hedgerow RPC, --port)" in line
    assert "address already in use" in line


def test_standalone_thrift_port_in_use(tmp_path: Path, busy_port: int) -> None:
    p = hedgerow(
        "standalone", "--data", "./d", "--port", "0", "--thrift-port", str(busy_port), cwd=tmp_path
    )
    line = one_error(p, 1)
    assert f"127.0.0.1:{busy_port} (HBase Thrift, --thrift-port)" in line
    assert "Hedgerow RPC" not in line


def test_thrift_port_in_use(tmp_path: Path, busy_port: int) -> None:
    p = hedgerow("thrift", "--data", "./d", "--port", str(busy_port), cwd=tmp_path)
    line = one_error(p, 1)
    assert f"127.0.0.1:{busy_port} (HBase Thrift, --port)" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--connect", "hbase://127.0.0.1:16000"], "ERROR: --connect: unknown scheme 'hbase'"),
        (
            ["--connect", "./d"],
            "ERROR: --connect expects hedgerow://HOST:PORT or hedgerow+zk://ZK:PORT/ROOT, got './d'",
        ),
        (["--data", "hedgerow://127.0.0.1:1"], "for a server use --connect"),
        (["--data", "./d", "--workers", "x"], "argument --workers: invalid int value: 'x'"),
    ],
)
def test_thrift_bad_usage(tmp_path: Path, args: list[str], expected: str) -> None:
    assert expected in one_error(hedgerow("thrift", *args, cwd=tmp_path), 2)
    assert list(tmp_path.iterdir()) == []


def test_unknown_subcommand_and_dump_kind(tmp_path: Path) -> None:
    assert "invalid choice: 'nosuch'" in one_error(hedgerow("nosuch", cwd=tmp_path), 2)
    assert "argument kind: invalid choice" in one_error(hedgerow("dump", "x", "y", cwd=tmp_path), 2)


def test_dump_missing_file_is_runtime_error(tmp_path: Path) -> None:
    line = one_error(hedgerow("dump", "wal", "./nope.log", cwd=tmp_path), 1)
    assert "nope.log" in line
