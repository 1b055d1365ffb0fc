"""The compiled core (hedgerow._core) is built, importable, and matches the package."""

from __future__ import annotations

import tomllib
from pathlib import Path

import hedgerow._core as core

ROOT = Path(__file__).resolve().parents[1]


def test_core_version_matches_the_python_package() -> None:
    """Cargo.toml and pyproject.toml carry one version; a stale build fails here."""
    cargo = tomllib.loads((ROOT / "rust" / "Cargo.toml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert core.__version__ == cargo["package"]["version"] == project["project"]["version"]


def test_bytes_cross_the_boundary_unchanged() -> None:
    payload = bytes(range(256)) * 3
    assert core.echo_bytes(payload) == payload
    assert core.noop() is None


def test_a_panic_becomes_a_python_exception_not_an_abort() -> None:
    """PyO3 unwinds a panic into ``pyo3_runtime.PanicException`` (a BaseException, so
    ``except Exception`` does not hide a bug); the process goes on."""
    from hedgerow.errors import is_core_panic

    try:
        core._panic("deliberate")
    except BaseException as exc:  # noqa: BLE001 - the point is which class it is
        assert is_core_panic(exc) and not isinstance(exc, Exception)
        assert "deliberate" in str(exc)
    else:
        raise AssertionError("no exception")
    assert core.echo_bytes(b"alive") == b"alive"
    assert not is_core_panic(KeyboardInterrupt())
