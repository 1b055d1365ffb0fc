//! Boundary probes: functions that do (almost) nothing but cross the Python/Rust boundary,
//! so `bench/boundary.py` can measure what one crossing costs.
//!
//! Role: measurement only; nothing in `hedgerow` calls these. They are the evidence for
//! the interface chosen in `docs/rfcs/0002-storage-core.md` (how coarse a call must be,
//! when releasing the GIL pays, what building Python rows in Rust costs).
//! Invariants: every probe is safe for any input: sizes are checked, never trusted, and a
//! request that does not fit the buffer is a `ValueError`.
//! Concurrency: pure functions; `probe_detach` and `probe_crc(.., detach=True)` release the
//! GIL around their (empty or checksum) work.
//! Hot path: none; each probe is as thin as the shape it measures.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

/// No arguments, no result: one bare crossing.
#[pyfunction]
fn probe_noop() {}

/// Five integer arguments parsed, nothing returned (the shape of `encode_key`'s call).
#[pyfunction]
fn probe_args5(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
    a ^ b ^ c ^ d ^ e
}

/// Borrows `b` (no copy) and returns its length: bytes in, an int out.
#[pyfunction]
fn probe_len(b: &[u8]) -> usize {
    b.len()
}

/// Copies `b` into a new `bytes`: the cost of producing a fresh result of that size.
#[pyfunction]
fn probe_copy<'py>(py: Python<'py>, b: &[u8]) -> Bound<'py, PyBytes> {
    PyBytes::new(py, b)
}

/// Releases the GIL and takes it back with nothing in between.
#[pyfunction]
fn probe_detach(py: Python<'_>) {
    py.detach(|| ());
}

/// CRC-32C of `b`, with the GIL released around the checksum when `detach` is true:
/// the size at which releasing pays for itself.
#[pyfunction]
#[pyo3(signature = (b, detach))]
fn probe_crc(py: Python<'_>, b: &[u8], detach: bool) -> u32 {
    if detach {
        py.detach(|| crc32c::crc32c(b))
    } else {
        crc32c::crc32c(b)
    }
}

/// The `i`-th `(key, value)` pair of `buf`, packed as `n` keys of `key_len` bytes followed
/// by `n` values of `value_len` bytes (the layout `bench/boundary.py` builds).
fn pair(buf: &[u8], n: usize, key_len: usize, value_len: usize, i: usize) -> (&[u8], &[u8]) {
    let k = i * key_len;
    let v = n * key_len + i * value_len;
    (&buf[k..k + key_len], &buf[v..v + value_len])
}

/// Checks that `n` keys and `n` values of the given lengths fit in `buf`.
fn check_layout(buf: &[u8], n: usize, key_len: usize, value_len: usize) -> Result<(), String> {
    let need = key_len
        .checked_add(value_len)
        .and_then(|per| per.checked_mul(n))
        .ok_or_else(|| "probe layout overflows usize".to_string())?;
    if need > buf.len() {
        return Err(format!(
            "probe layout needs {need} bytes, the buffer has {}",
            buf.len()
        ));
    }
    Ok(())
}

/// `n` tuples `(key, value)` of new `bytes` sliced from `buf`, built in one call: what a
/// scan that hands back a batch of rows costs per row.
#[pyfunction]
fn probe_rows<'py>(
    py: Python<'py>,
    buf: &[u8],
    n: usize,
    key_len: usize,
    value_len: usize,
) -> PyResult<Bound<'py, PyList>> {
    check_layout(buf, n, key_len, value_len).map_err(PyValueError::new_err)?;
    let items = (0..n).map(|i| {
        let (k, v) = pair(buf, n, key_len, value_len, i);
        PyTuple::new(py, [PyBytes::new(py, k), PyBytes::new(py, v)])
    });
    PyList::new(py, items.collect::<PyResult<Vec<_>>>()?)
}

/// Like `probe_rows`, but each row is `(key, {column: value})`, the shape of a Hedgerow
/// scan's row (one column per row here).
#[pyfunction]
fn probe_row_dicts<'py>(
    py: Python<'py>,
    buf: &[u8],
    n: usize,
    key_len: usize,
    value_len: usize,
    column: Bound<'py, PyBytes>,
) -> PyResult<Bound<'py, PyList>> {
    check_layout(buf, n, key_len, value_len).map_err(PyValueError::new_err)?;
    let list = PyList::empty(py);
    for i in 0..n {
        let (k, v) = pair(buf, n, key_len, value_len, i);
        let d = PyDict::new(py);
        d.set_item(&column, PyBytes::new(py, v))?;
        list.append((PyBytes::new(py, k), d))?;
    }
    Ok(list)
}

/// An iterator that crosses the boundary once per row (`__next__`), over the same layout
/// as `probe_rows`: the per-row shape the RFC rejects, measured.
#[pyclass(frozen)]
struct ProbeRowIter {
    buf: Vec<u8>,
    n: usize,
    key_len: usize,
    value_len: usize,
    next: std::sync::atomic::AtomicUsize,
}

#[pymethods]
impl ProbeRowIter {
    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if i >= self.n {
            return Ok(None);
        }
        let (k, v) = pair(&self.buf, self.n, self.key_len, self.value_len, i);
        PyTuple::new(py, [PyBytes::new(py, k), PyBytes::new(py, v)]).map(Some)
    }
}

/// A `ProbeRowIter` over a copy of `buf`.
#[pyfunction]
fn probe_row_iter(
    buf: &[u8],
    n: usize,
    key_len: usize,
    value_len: usize,
) -> PyResult<ProbeRowIter> {
    check_layout(buf, n, key_len, value_len).map_err(PyValueError::new_err)?;
    Ok(ProbeRowIter {
        buf: buf.to_vec(),
        n,
        key_len,
        value_len,
        next: std::sync::atomic::AtomicUsize::new(0),
    })
}

/// Adds the probes to `_core` (each name starts with `probe_`).
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(probe_noop, m)?)?;
    m.add_function(wrap_pyfunction!(probe_args5, m)?)?;
    m.add_function(wrap_pyfunction!(probe_len, m)?)?;
    m.add_function(wrap_pyfunction!(probe_copy, m)?)?;
    m.add_function(wrap_pyfunction!(probe_detach, m)?)?;
    m.add_function(wrap_pyfunction!(probe_crc, m)?)?;
    m.add_function(wrap_pyfunction!(probe_rows, m)?)?;
    m.add_function(wrap_pyfunction!(probe_row_dicts, m)?)?;
    m.add_function(wrap_pyfunction!(probe_row_iter, m)?)?;
    m.add_class::<ProbeRowIter>()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_follow_the_packed_layout() {
        // keys "ab", "cd"; values "xyz", "uvw"
        let buf = b"abcdxyzuvw";
        assert_eq!(pair(buf, 2, 2, 3, 0), (&b"ab"[..], &b"xyz"[..]));
        assert_eq!(pair(buf, 2, 2, 3, 1), (&b"cd"[..], &b"uvw"[..]));
    }

    #[test]
    fn a_layout_larger_than_the_buffer_is_refused() {
        assert!(check_layout(b"abcdxyzuvw", 2, 2, 3).is_ok());
        assert!(check_layout(b"abcdxyzuv", 2, 2, 3).is_err());
        assert!(check_layout(b"", usize::MAX, 2, 3).is_err());
    }
}
