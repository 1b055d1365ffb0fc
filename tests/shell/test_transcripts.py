"""Transcript tests: shell commands in, HBase-shaped output out, against an embedded store.

Each ``transcripts/*.txt`` file is one session in a fresh data directory.
Lines starting with ``> `` are input (consecutive ones are fed together, so
multi-line commands and y/n answers work as in a piped script); every other
line is the exact expected output, with ``Took N.NNNN seconds`` written as
``Took <t> seconds``, wall-clock cell timestamps (13+ digits) as ``<ts>`` and the
region server's name in ``status`` and ``list_regions`` as ``<server>``.
Errors do not stop the session here (as in the interactive shell).
Regenerate after an intended output change with
``HEDGEROW_UPDATE_TRANSCRIPTS=1 pytest tests/shell`` and review the diff.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import hedgerow
from hedgerow.shell import Shell
from hedgerow.shell.registry import COMMANDS
from hedgerow.shell.session import command_names

HERE = Path(__file__).parent / "transcripts"
FILES = sorted(HERE.glob("*.txt"))

_TOOK = re.compile(r"^Took \d+\.\d{4} seconds$", re.M)
_TS = re.compile(r"(?<![0-9])\d{13,}(?![0-9])")
#: the region server's name: "local" embedded, "127.0.0.1:<port>" behind hedgerow standalone
_SERVER = re.compile(
    r"(?<=active master:  )\S+|(?<=^    )(?:local|127\.0\.0\.1:\d+)(?= )"
    r"|(?<=live servers: )(?:local|127\.0\.0\.1:\d+)",
    re.M,
)


#: list_regions' SERVER_NAME column (11 wide: the header is the widest entry)
_SERVER_CELL = re.compile(r"^ +(?:local|127\.0\.0\.1) \|", re.M)


def mask(text: str) -> str:
    text = _SERVER_CELL.sub(" " + "<server>".rjust(11) + " |", text)
    return _SERVER.sub("<server>", _TS.sub("<ts>", _TOOK.sub("Took <t> seconds", text)))


def run_transcript(path: Path, data_dir: str, backend: str = "embedded") -> str:
    """Run the inputs of ``path``; return the transcript with the actual output.

    Input lines are handed to the shell one at a time, and the output produced
    before each is read is written above it, so an answer to a y/n question
    appears after the question, as a user would see it.
    """
    inputs = [
        line[2:] for line in path.read_text().splitlines() if line.startswith("> ") or line == ">"
    ]
    out = io.StringIO()
    parts: list[str] = []

    def flush() -> None:
        text = mask(out.getvalue()).rstrip("\n")
        if text:
            parts.append(text)
        out.seek(0)
        out.truncate()

    def feed() -> Iterator[str]:
        for line in inputs:
            flush()
            parts.append(f"> {line}".rstrip())
            yield line

    server = None
    if backend == "standalone":
        from hedgerow.server.standalone import StandaloneConfig, StandaloneServer

        server = StandaloneServer(StandaloneConfig(data_dir, port=0, thrift_port=None))
        server.start()
        conn = hedgerow.connect(f"hedgerow://127.0.0.1:{server.rpc_address[1]}")
    else:
        conn = hedgerow.connect(data_dir)
    shell = Shell(conn, out, identity=("alice", ["alice", "staff"]))
    try:
        shell.run_lines(feed(), stop_on_error=False)
        flush()
    finally:
        conn.close()
        if server is not None:
            server.stop()
    return "\n".join(parts) + "\n"


@pytest.mark.parametrize("backend", ["embedded", "standalone"])
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript(path: Path, tmp_path: Path, backend: str) -> None:
    """The same transcript, embedded and through ``hedgerow standalone`` (hedgerow://)."""
    actual = run_transcript(path, str(tmp_path / "data"), backend)
    if os.environ.get("HEDGEROW_UPDATE_TRANSCRIPTS") and backend == "embedded":
        path.write_text(actual)
    assert actual == path.read_text()


def test_every_command_has_a_transcript() -> None:
    used: set[str] = set()
    for p in FILES:
        for line in p.read_text().splitlines():
            m = re.match(r"> ([a-z_]+)", line)
            if m:
                used.add(m.group(1))
    missing = sorted(set(command_names()) - used)
    assert not missing, f"commands without a transcript: {missing}"
    assert len(COMMANDS) >= 36
