//! `hedgerow._core`: the compiled half of Hedgerow's storage engine.
//!
//! Python keeps everything a user or operator touches (API, regions, RPC, gateways, shell);
//! this crate holds the storage hot paths behind a few coarse calls. The boundary, and the
//! measurements it was chosen by, are in `docs/rfcs/0002-storage-core.md`.
//!
//! Layout: one Rust module per storage concept; `lib.rs` only registers them. Each module
//! keeps its pure-Rust logic separate from its `#[pyfunction]`/`#[pyclass]` wrappers so
//! `cargo test` exercises the logic without a Python interpreter.

use pyo3::prelude::*;

pub mod bench_probe;
pub mod fs;
pub mod keys;
pub mod memstore;
pub mod sstable;
pub mod wal_record;
pub mod wal_writer;

/// The version of the compiled core; `hedgerow._core.__version__`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Does nothing: the cost of one Python -> Rust call with no arguments, measured by
/// `bench/boundary.py`.
#[pyfunction]
fn noop() {}

/// Returns its argument: the cost of passing one `bytes` in and back out.
#[pyfunction]
fn echo_bytes(b: Bound<'_, pyo3::types::PyBytes>) -> Bound<'_, pyo3::types::PyBytes> {
    b
}

/// Panics with `message`: tests prove that a panic in the core reaches Python as
/// `pyo3_runtime.PanicException` (a `BaseException`) instead of aborting the process, and
/// that the RPC server answers it as an internal error and keeps serving.
#[pyfunction]
fn _panic(message: &str) {
    panic!("{message}");
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", VERSION)?;
    m.add_function(wrap_pyfunction!(noop, m)?)?;
    m.add_function(wrap_pyfunction!(echo_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(_panic, m)?)?;
    m.add_function(wrap_pyfunction!(fs::_fs_script, m)?)?;
    keys::register(m)?;
    m.add_class::<memstore::MemStore>()?;
    wal_record::register(m)?;
    wal_writer::register(m)?;
    bench_probe::register(m)?;
    sstable::py::register(m)?;
    sstable::py_store::register(m)?;
    Ok(())
}
