"""Item 6 of issue #12: scripts/run and scripts/test call pip only when something changed.

``scripts/_venv.sh`` (sourced by both) is run in a scratch checkout whose
``.venv/bin/python`` is a fake: it logs ``-m pip ...`` calls and runs anything
else with the real interpreter. The first ``ensure_venv`` installs, the second
does not; a changed pyproject.toml, extras not installed yet, or
HEDGEROW_REINSTALL=1 install again.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FAKE_PYTHON = """#!/usr/bin/env bash
if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then
    echo "pip ${*:3}" >> "$(dirname "$0")/../pip.log"
    exit 0
fi
exec REAL "$@"
"""


def _checkout(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "_venv.sh").write_text((ROOT / "scripts" / "_venv.sh").read_text())
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.write_text(FAKE_PYTHON.replace("REAL", sys.executable))
    python.chmod(0o755)
    return tmp_path


def ensure(checkout: Path, extras: str, **env: str) -> list[str]:
    """Run ``ensure_venv extras``; return the pip calls it made."""
    log = checkout / ".venv" / "pip.log"
    log.unlink(missing_ok=True)
    subprocess.run(
        ["bash", "-c", f"set -euo pipefail; . scripts/_venv.sh; ensure_venv {extras}"],
        cwd=checkout,
        check=True,
        env={**os.environ, **env},
        timeout=60,
    )
    return log.read_text().splitlines() if log.exists() else []


def test_second_run_does_not_call_pip(tmp_path: Path) -> None:
    co = _checkout(tmp_path)
    first = ensure(co, "all")
    assert first == ["pip install --quiet --upgrade pip", "pip install --quiet -e .[all]"]
    assert ensure(co, "all") == []


def test_changes_that_need_an_install(tmp_path: Path) -> None:
    co = _checkout(tmp_path)
    assert ensure(co, "all,dev")
    assert ensure(co, "all") == []  # scripts/run after scripts/test: all is in all,dev
    assert ensure(co, "all,dev") == []
    (co / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "2"\n')
    assert ensure(co, "all")[-1] == "pip install --quiet -e .[all]"
    assert ensure(co, "all,dev")[-1] == "pip install --quiet -e .[all,dev]"  # dev not in all
    assert ensure(co, "all,dev") == []
    assert ensure(co, "all", HEDGEROW_REINSTALL="1")


def test_failed_install_is_retried(tmp_path: Path) -> None:
    co = _checkout(tmp_path)
    python = co / ".venv" / "bin" / "python"
    good = python.read_text()
    python.write_text(good.replace("exit 0", "exit 1"))
    failed = subprocess.run(
        ["bash", "-c", "set -euo pipefail; . scripts/_venv.sh; ensure_venv all"],
        cwd=co,
        timeout=60,
    )
    assert failed.returncode != 0
    python.write_text(good)
    assert ensure(co, "all")  # no stamp was left by the failed install


def test_run_and_test_use_it() -> None:
    run = (ROOT / "scripts" / "run").read_text()
    test = (ROOT / "scripts" / "test").read_text()
    assert ". scripts/_venv.sh" in run and "ensure_venv all\n" in run
    assert ". scripts/_venv.sh" in test and "ensure_venv all,dev\n" in test
    assert "pip install" not in run and "pip install" not in test
