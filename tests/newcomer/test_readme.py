"""Items 2 and 3 of issue #12: the README's examples work as pasted, while scripts/run serves.

The python blocks run, in order, each in a fresh interpreter, in a scratch
directory where a standalone server serves ``./data`` (as ``scripts/run`` does in
the checkout), so an embedded example that opened ``./data`` would fail with
DirectoryLocked; remote examples reach that server (its port stands in for
16000). Every command line of an ``sh`` block must be reachable as written from
the checkout's top directory in a fresh terminal (no activated venv): a path
such as ``./scripts/run`` or ``.venv/bin/hedgerow``, never a bare ``hedgerow``;
``hedgerow`` command lines must parse with the real argument parser; and the
shell demo (a here-document) runs and prints what the README says it prints.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hedgerow.cli.main import _modules, _parser
from hedgerow.server.standalone import StandaloneConfig, StandaloneServer

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```", README, re.S | re.M)
PYTHON = [code for lang, code in BLOCKS if lang == "python"]
SHELL = [code for lang, code in BLOCKS if lang == "sh"]
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
VENV_BIN = Path(sys.executable).parent  # the venv the tests run in: what scripts/* make


@pytest.fixture
def served_cwd(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A scratch directory whose ``./data`` a standalone server holds; yields (dir, port)."""
    srv = StandaloneServer(StandaloneConfig(str(tmp_path / "data"), port=0, thrift_port=None))
    srv.start()
    try:
        yield tmp_path, srv.rpc_address[1]
    finally:
        srv.stop()


def test_readme_has_the_examples() -> None:
    assert len(PYTHON) >= 3 and len(SHELL) >= 3


def test_python_examples_run_as_pasted(served_cwd: tuple[Path, int]) -> None:
    cwd, port = served_cwd
    for attempt in range(2):  # all of them twice: pasting them again works too
        for i, code in enumerate(PYTHON):
            code = re.sub(r"(127\.0\.0\.1|localhost):16000", f"127.0.0.1:{port}", code)
            p = subprocess.run(
                [sys.executable, "-c", code],
                cwd=cwd,
                capture_output=True,
                text=True,
                timeout=120,
                stdin=subprocess.DEVNULL,
            )
            where = f"README python block {i + 1} (run {attempt + 1})"
            assert p.returncode == 0, f"{where}:\n{p.stderr}"


def test_embedded_examples_do_not_open_the_served_directory() -> None:
    served = re.search(r"runs the standalone server on (\S+)", README)
    assert served is not None and served.group(1) == "./data"
    for code in PYTHON:
        assert not re.search(r"""connect\(\s*["'](\./)?data["']""", code), code


def _command_lines(block: str) -> Iterator[str]:
    """The command lines of an sh block (here-document bodies and comments left out)."""
    heredoc_end = None
    for line in block.splitlines():
        if heredoc_end is not None:
            if line.strip() == heredoc_end:
                heredoc_end = None
            continue
        m = re.search(r"<<-?\s*'?(\w+)'?", line)
        if m:
            heredoc_end = m.group(1)
            line = line[: m.start()]
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            yield line


def test_shell_command_lines_are_reachable_as_written() -> None:
    lines = [line for block in SHELL for line in _command_lines(block)]
    assert lines
    parser = _parser(_modules())
    for line in lines:
        argv = shlex.split(line)
        word = argv[0]
        assert "/" in word, f"{line!r}: {word!r} is on no PATH in a fresh terminal"
        if word.startswith(".venv/bin/"):
            name = word.removeprefix(".venv/bin/")
            assert name in SCRIPTS or name == "python", line
            assert (VENV_BIN / name).exists(), f"{line!r}: the install makes no {name}"
            if name == "hedgerow":
                parser.parse_args(argv[1:])  # exits 2 on a wrong subcommand or option
        else:
            path = ROOT / word
            assert path.is_file() and os.access(path, os.X_OK), line
    assert ". scripts/_venv.sh" in (ROOT / "scripts" / "run").read_text()
    assert "-m venv .venv" in (ROOT / "scripts" / "_venv.sh").read_text()


def test_shell_demo_runs_as_pasted(tmp_path: Path) -> None:
    (demo,) = [b for b in SHELL if "<<'EOF'" in b]
    (tmp_path / ".venv").symlink_to(VENV_BIN.parent)  # the checkout's .venv, as scripts/run makes
    p = subprocess.run(
        ["bash", "-c", demo],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": "/usr/bin:/bin"},  # a fresh terminal: no venv on PATH
    )
    assert p.returncode == 0, p.stderr
    assert " alice column=info:email, timestamp=" in p.stdout
    assert "2 row(s)" in p.stdout
    assert (tmp_path / "shell-demo").is_dir()
