"""Item 4 of issue #12: no stale words about the server in the shell's help, docs and ``version``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import hedgerow
from hedgerow.cli.main import main
from hedgerow.server.standalone import StandaloneConfig, StandaloneServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    srv = StandaloneServer(StandaloneConfig(str(tmp_path / "served"), port=0, thrift_port=None))
    srv.start()
    try:
        yield f"hedgerow://127.0.0.1:{srv.rpc_address[1]}"
    finally:
        srv.stop()


def test_shell_help_offers_the_server(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["shell", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "once the server exists" not in out
    assert "hedgerow://host:port" in out
    assert "hedgerow shell hedgerow://127.0.0.1:16000" in out


def test_docs_do_not_call_the_server_unbuilt() -> None:
    text = (ROOT / "docs" / "shell.md").read_text()
    assert "not built yet" not in text
    assert "hedgerow shell hedgerow://" in text


def test_version_over_a_server_names_its_address(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["shell", server, "-e", "version"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"{hedgerow.__version__}, hedgerow, server {server}"


def test_version_embedded_names_the_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["shell", "./d", "-e", "version"]) == 0
    finally:
        os.chdir(old)
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"{hedgerow.__version__}, hedgerow, embedded, data directory {tmp_path / 'd'}"
