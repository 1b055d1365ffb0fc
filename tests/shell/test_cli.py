"""``hedgerow shell`` from the command line: -e, script files, stdin, exit status, help."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from hedgerow.cli.main import main


def run(
    argv: list[str], capsys: pytest.CaptureFixture[str], stdin: str = ""
) -> tuple[int, str, str]:
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        rc = main(argv)
    finally:
        sys.stdin = old
    out, err = capsys.readouterr()
    return rc, out, err


def test_execute_option_runs_commands_in_order(tmp_path: Path, capsys) -> None:
    d = str(tmp_path / "data")
    rc, out, err = run(
        ["shell", d, "-e", "create 't1', 'cf'", "-e", "put 't1', 'r1', 'cf:a', 'v1', 5\nscan 't1'"],
        capsys,
    )
    assert rc == 0, err
    assert " r1 column=cf:a, timestamp=5, value=v1\n1 row(s)\n" in out
    assert err == ""


def test_stdin_and_data_persist_between_runs(tmp_path: Path, capsys) -> None:
    d = str(tmp_path / "data")
    assert run(["shell", d], capsys, "create 't', 'cf'\nput 't', 'r', 'cf:q', 'x', 9\n")[0] == 0
    rc, out, _ = run(["shell", d], capsys, "get 't', 'r'\n")
    assert rc == 0
    assert "COLUMN  CELL\n cf:q timestamp=9, value=x\n1 row(s)\n" in out


def test_first_error_stops_a_script_with_status_1(tmp_path: Path, capsys) -> None:
    d = str(tmp_path / "data")
    script = tmp_path / "cmds.txt"
    script.write_text("create 't', 'cf'\nscan 'nosuchtable'\nput 't', 'r', 'cf:a', 'never'\n")
    rc, out, err = run(["shell", d, str(script)], capsys)
    assert rc == 1
    assert err == "ERROR: Unknown table nosuchtable!\n"
    rc, out, _ = run(["shell", d, "-e", "count 't'"], capsys)
    assert rc == 0 and "0 row(s)" in out  # the put after the error did not run


def test_syntax_error_exits_nonzero(tmp_path: Path, capsys) -> None:
    rc, _, err = run(["shell", str(tmp_path / "d"), "-e", "create 't' 'cf'"], capsys)
    assert rc == 1
    assert err.startswith("ERROR: syntax error at line 1")
    assert err.count("\n") == 1


def test_confirmation_answer_read_from_input(tmp_path: Path, capsys) -> None:
    d = str(tmp_path / "data")
    rc, out, _ = run(
        ["shell", d], capsys, "create 'a1', 'cf'\ndisable_all 'a.*'\ny\nis_disabled 'a1'\n"
    )
    assert rc == 0
    assert "Disable the above 1 tables (y/n)?\n1 tables successfully disabled\n" in out
    assert "true\n" in out


def test_server_url_with_no_server_reports_clearly(capsys) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    rc, out, err = run(["shell", f"hedgerow://127.0.0.1:{port}", "-e", "list"], capsys)
    assert rc == 1
    assert err.startswith("ERROR: ") and f"127.0.0.1:{port}" in err
    assert err.count("\n") == 1


def test_server_url_talks_to_a_server(capsys, tmp_path) -> None:
    from hedgerow.server.standalone import StandaloneConfig, StandaloneServer

    srv = StandaloneServer(StandaloneConfig(str(tmp_path / "db"), port=0, thrift_port=None))
    srv.start()
    try:
        url = f"hedgerow://127.0.0.1:{srv.rpc_address[1]}"
        rc, out, err = run(
            ["shell", url, "-e", "create 't', 'cf'\nput 't', 'r', 'cf:a', 'v'"], capsys
        )
        assert rc == 0, err
        rc, out, err = run(["shell", url, "-e", "scan 't'"], capsys)
        assert rc == 0 and "column=cf:a" in out and "value=v" in out
    finally:
        srv.stop()


def test_help_texts_have_examples(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    assert "shell" in top
    with pytest.raises(SystemExit):
        main(["shell", "--help"])
    text = capsys.readouterr().out
    assert "hedgerow shell ./data -e" in text and "examples:" in text


def test_console_script_end_to_end(tmp_path: Path) -> None:
    """The real process: stdin is a pipe, so the shell runs non-interactively."""
    p = subprocess.run(
        [sys.executable, "-m", "hedgerow.cli.main", "shell", str(tmp_path / "d")],
        input="create 't', 'cf'\nput 't', \"\\x00\", 'cf:q', \"\\xff\", 3\nscan 't'\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    assert " \\x00 column=cf:q, timestamp=3, value=\\xFF\n" in p.stdout
