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
