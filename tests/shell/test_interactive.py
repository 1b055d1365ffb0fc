"""The interactive shell in a real pseudo-terminal: multi-line input, Tab completion of a
table name, history recall with the up arrow (also across sessions, from the history file)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

UP = "\x1b[A"
PROMPT = r"hedgerow:\d{3}:0>"


def spawn(data: Path, history: Path) -> object:
    env = dict(os.environ)
    env.update(
        HEDGEROW_SHELL_HISTORY=str(history),
        PROMPT_TOOLKIT_NO_CPR="1",  # the pty does not answer cursor-position requests
        TERM="xterm",
        COLUMNS="200",
        LINES="50",
    )
    child = pexpect.spawn(
        sys.executable,
        ["-m", "hedgerow.cli.main", "shell", str(data)],
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(50, 200),
    )
    child.expect(PROMPT)
    return child


def test_interactive_session(tmp_path: Path) -> None:
    data, history = tmp_path / "data", tmp_path / "history"
    child = spawn(data, history)
    try:
        child.sendline("create 'orders', 'cf'")
        child.expect("Created table orders")
        child.expect(PROMPT)

        # multi-line: the open call continues on the next line (a continuation prompt)
        child.send("put 'orders', 'r1',\r")
        child.expect(r"\*")
        child.send("'cf:a', 'v1', 42\r")
        child.expect("Took")
        child.expect(PROMPT)

        # Tab completes the table name and closes the quote
        child.send("scan 'ord\t")
        child.expect("orders'")
        child.send("\r")
        child.expect(r" r1 column=cf:a, timestamp=42, value=v1\r\n1 row\(s\)")
        child.expect(PROMPT)

        # an error line, and the shell goes on
        child.sendline("get 'nosuchtable', 'r1'")
        child.expect("ERROR: Unknown table nosuchtable!")
        child.expect(PROMPT)

        # up arrow twice recalls the scan; running it again prints the row again
        child.send(UP + UP)
        child.expect("scan 'orders'")
        child.send("\r")
        child.expect(r" r1 column=cf:a, timestamp=42, value=v1\r\n1 row\(s\)")
        child.expect(PROMPT)
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0

    # a new session recalls the previous session's commands from the history file
    assert "scan 'orders'" in history.read_text()
    child = spawn(data, history)
    try:
        child.send(UP + UP)  # the last session ended with: ..., scan 'orders', exit
        child.expect("scan 'orders'")
        child.send("\r")
        child.expect(r" r1 column=cf:a, timestamp=42, value=v1\r\n1 row\(s\)")
        child.expect(PROMPT)
        child.sendcontrol("d")  # end of input leaves the shell
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
