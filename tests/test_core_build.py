"""The compiled core (hedgerow._core) is built, importable, and matches the package."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

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


def test_boundary_probes_exist_and_behave() -> None:
    """bench/boundary.py's probes (rust/src/bench_probe.rs) do what RFC 0002 measures."""
    assert core.probe_noop() is None
    assert core.probe_detach() is None
    assert core.probe_args5(1, 2, 4, 8, 16) == 31
    payload = bytes(range(256)) * 5
    assert core.probe_len(payload) == len(payload)
    copy = core.probe_copy(payload)
    assert copy == payload and copy is not payload
    crc = core.probe_crc(b"123456789", False)
    assert crc == core.probe_crc(b"123456789", True) == 0xE3069283  # the CRC-32C check value
    buf = b"k1k2" + b"vvv" + b"www"
    rows = [(b"k1", b"vvv"), (b"k2", b"www")]
    assert core.probe_rows(buf, 2, 2, 3) == rows
    assert list(core.probe_row_iter(buf, 2, 2, 3)) == rows
    assert core.probe_row_dicts(buf, 2, 2, 3, b"cf:q") == [
        (b"k1", {b"cf:q": b"vvv"}),
        (b"k2", {b"cf:q": b"www"}),
    ]


def test_probes_refuse_a_layout_that_does_not_fit() -> None:
    with pytest.raises(ValueError, match="needs 12 bytes, the buffer has 10"):
        core.probe_rows(b"k1k2vvvwww", 2, 2, 4)
    with pytest.raises(ValueError, match="overflows"):
        core.probe_row_iter(b"", 2**63, 2**62, 2**62)
