"""Item 1 of issue #12: a mistyped scheme is refused, and nothing is created.

``hedgerow.connect("hbase://127.0.0.1:16000")`` used to make a directory named
``hbase:/127.0.0.1:16000`` (with a WAL) and return an empty store.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import hedgerow
import hedgerow.aio
from hedgerow.client.url import is_server_url
from hedgerow.errors import InvalidArgument

BAD = ["hbase://127.0.0.1:16000", "http://localhost:16000", "file:///tmp/x", "HBase://h:1"]


@pytest.fixture
def in_tmp(tmp_path: Path):
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)


@pytest.mark.parametrize("url", BAD)
def test_connect_refuses_unknown_scheme_and_creates_nothing(in_tmp: Path, url: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        hedgerow.connect(url)
    msg = str(e.value)
    assert "unknown scheme" in msg and "hedgerow://HOST:PORT" in msg and "./data" in msg
    assert list(in_tmp.iterdir()) == []


@pytest.mark.parametrize("url", BAD)
def test_aio_connect_refuses_unknown_scheme_and_creates_nothing(in_tmp: Path, url: str) -> None:
    with pytest.raises(InvalidArgument, match="unknown scheme"):
        hedgerow.aio.connect(url)
    assert list(in_tmp.iterdir()) == []


def test_file_scheme_hint() -> None:
    with pytest.raises(InvalidArgument, match="without file://"):
        is_server_url("file:///var/lib/hedgerow")


@pytest.mark.parametrize(
    ("target", "server"),
    [
        ("hedgerow://127.0.0.1:16000", True),
        ("HEDGEROW://h:1", True),
        ("./data", False),
        ("/abs/dir", False),
        ("data:with:colons", False),
        ("C:\\data", False),
    ],
)
def test_accepted_targets(target: str, server: bool) -> None:
    assert is_server_url(target) is server


def test_plain_directory_still_opens(in_tmp: Path) -> None:
    conn = hedgerow.connect("./d")
    conn.close()
    assert (in_tmp / "d").is_dir()


def test_shell_refuses_unknown_scheme(tmp_path: Path) -> None:
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "hedgerow.cli.main",
            "shell",
            "hbase://127.0.0.1:16000",
            "-e",
            "list",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 2, p
    assert p.stdout == ""
    assert p.stderr.startswith("ERROR: hedgerow shell: unknown scheme 'hbase'"), p.stderr
    assert p.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
