"""Type stubs for hedgerow._core, the compiled storage core (rust/src/lib.rs).

Kept beside the extension so mypy --strict checks every call into it; each entry mirrors a
#[pyfunction] or #[pyclass] in rust/src. docs/rfcs/0002-storage-core.md is the boundary.
"""

__version__: str

def noop() -> None:
    """Does nothing; bench/boundary.py measures one call's cost."""

def echo_bytes(b: bytes, /) -> bytes:
    """Returns its argument; bench/boundary.py measures one bytes round trip."""
