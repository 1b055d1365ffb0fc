//! Memstore: the in-memory sorted buffer of one store's recent writes.
//!
//! Role: the region inserts each write batch's cells here (after the WAL); reads merge it
//! with store files; past the flush threshold the active memstore is frozen into a
//! snapshot, written out as a store file, then dropped. `hedgerow.storage.memstore`
//! adds the Python `iter_range` generator on top of `scan`.
//! Format: none (in memory). Entries are internal key -> value (`keys.rs`), ordered as
//! plain bytes.
//! Invariants: keys unique; `size_bytes` is the sum of key and value lengths plus
//! `ENTRY_OVERHEAD` per entry (the flush threshold's unit, unchanged from the Python
//! memstore); a frozen memstore takes no more inserts (only a failed write's rollback).
//! Concurrency: one `RwLock` around the map. Methods copy their Python inputs into Rust
//! before locking and build Python results after unlocking, so no Python code (and so no
//! GIL hand-over) ever runs under the lock; `scan` copies at most `limit` entries per
//! lock hold (keys are `Arc`s and values the caller's own `bytes` objects, so a copy is
//! a reference count), so a long scan
//! never blocks the writer for long and never sees the map mid-update. MVCC (sequence
//! numbers in the keys) hides entries newer than a reader's read point.
//! Hot path: `add_cells` (every write), `scan`/`items` (every read); bench/engine.py.

use std::collections::BTreeMap;
use std::ops::Bound as RangeBound;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::keys;

/// Bytes charged per entry besides its key and value. It was measured (roughly, with
/// `sys.getsizeof`) for the Python memstore; kept so flush decisions do not change.
pub const ENTRY_OVERHEAD: i64 = 120;

type Buf = Arc<[u8]>;

/// A value the memstore keeps: the `bytes` object the writer passed in, not a copy.
/// Reads hand the same object back, so a large cell costs its memory once however many
/// requests read it at once (a copy per read let three clients pipelining GETs of a
/// 10 MiB cell grow the server by 260 MiB; tests/integration/test_hostile_clients.py).
/// `PyBackedBytes` derefs to the bytes without the GIL (they are immutable and kept
/// alive by the reference it owns).
pub struct PyVal(PyBackedBytes);

impl Clone for PyVal {
    fn clone(&self) -> Self {
        // a reference-count increment; every caller already holds the GIL, so this
        // attach is a thread-local check
        Python::attach(|py| PyVal(self.0.clone_ref(py)))
    }
}

impl AsRef<[u8]> for PyVal {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Why a write was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemError {
    Frozen,
}

/// The sorted map and its accounting; no locking, no Python. `V` is the value type:
/// `PyVal` in the extension, plain `Arc<[u8]>` in Rust tests.
pub struct MemTable<V = Buf> {
    map: BTreeMap<Buf, V>,
    size_bytes: i64,
    frozen: bool,
}

impl<V> Default for MemTable<V> {
    fn default() -> Self {
        MemTable {
            map: BTreeMap::new(),
            size_bytes: 0,
            frozen: false,
        }
    }
}

fn charge(k: &[u8], v: &[u8]) -> i64 {
    (k.len() + v.len()) as i64 + ENTRY_OVERHEAD
}

impl<V: Clone + AsRef<[u8]>> MemTable<V> {
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn size_bytes(&self) -> i64 {
        self.size_bytes
    }

    /// Inserts (or overwrites) every entry; returns the bytes added (negative when
    /// overwrites shrank values).
    pub fn insert_all(&mut self, entries: Vec<(Buf, V)>) -> Result<i64, MemError> {
        if self.frozen {
            return Err(MemError::Frozen);
        }
        let mut added = 0;
        for (k, v) in entries {
            let vlen = v.as_ref().len() as i64;
            let klen = k.len();
            match self.map.insert(k, v) {
                Some(old) => added += vlen - old.as_ref().len() as i64,
                None => added += klen as i64 + vlen + ENTRY_OVERHEAD,
            }
        }
        self.size_bytes += added;
        Ok(added)
    }

    /// Removes entries a failed write inserted (allowed when frozen).
    pub fn remove_all<K: AsRef<[u8]>>(&mut self, keys: &[K]) {
        for k in keys {
            let k = k.as_ref();
            if let Some(v) = self.map.remove(k) {
                self.size_bytes -= charge(k, v.as_ref());
            }
        }
    }

    pub fn freeze(&mut self) {
        self.frozen = true;
    }

    /// Up to `limit` entries from `lo` (inclusive or not) below `stop`, in key order.
    pub fn scan(
        &self,
        lo: &[u8],
        include_lo: bool,
        stop: Option<&[u8]>,
        limit: usize,
    ) -> Vec<(Buf, V)> {
        let from = if include_lo {
            RangeBound::Included(lo)
        } else {
            RangeBound::Excluded(lo)
        };
        let to = match stop {
            Some(s) => RangeBound::Excluded(s),
            None => RangeBound::Unbounded,
        };
        if stop.is_some_and(|s| s <= lo) {
            // empty; and BTreeMap::range panics on an inverted range
            return Vec::new();
        }
        self.map
            .range::<[u8], _>((from, to))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The greatest key `< key`.
    pub fn last_key_before(&self, key: &[u8]) -> Option<Buf> {
        self.map
            .range::<[u8], _>((RangeBound::Unbounded, RangeBound::Excluded(key)))
            .next_back()
            .map(|(k, _)| k.clone())
    }

    pub fn first_key(&self) -> Option<Buf> {
        self.map.keys().next().cloned()
    }

    pub fn last_key(&self) -> Option<Buf> {
        self.map.keys().next_back().cloned()
    }

    /// Checks the accounting against the entries.
    pub fn check(&self) -> Result<(), String> {
        let sum: i64 = self.map.iter().map(|(k, v)| charge(k, v.as_ref())).sum();
        if sum != self.size_bytes {
            return Err(format!(
                "size_bytes {} but the entries add up to {sum}",
                self.size_bytes
            ));
        }
        Ok(())
    }
}

/// A sorted map of internal key to value, safe for concurrent readers and one writer.
#[pyclass(frozen, subclass, module = "hedgerow._core")]
pub struct MemStore {
    table: RwLock<MemTable<PyVal>>,
}

fn frozen_error() -> PyErr {
    PyRuntimeError::new_err("write to a frozen memstore")
}

fn as_bytes<'a, 'py>(b: &'a Bound<'py, PyAny>) -> PyResult<&'a Bound<'py, PyBytes>> {
    b.cast::<PyBytes>()
        .map_err(|_| PyTypeError::new_err("memstore keys and values are bytes"))
}

fn to_buf(b: &Bound<'_, PyAny>) -> PyResult<Buf> {
    Ok(Arc::from(as_bytes(b)?.as_bytes()))
}

fn to_val(b: &Bound<'_, PyAny>) -> PyResult<PyVal> {
    Ok(PyVal(PyBackedBytes::from(as_bytes(b)?.clone())))
}

fn entries_list<'py>(py: Python<'py>, entries: Vec<(Buf, PyVal)>) -> PyResult<Bound<'py, PyList>> {
    let items = entries
        .into_iter()
        .map(|(k, v)| {
            let v = v.0.into_pyobject(py).unwrap_or_else(|never| match never {});
            PyTuple::new(py, [PyBytes::new(py, &k), v])
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, items)
}

/// Encodes the keys of `(row, qualifier, ts, type, value)` cells written at `seq`.
fn cell_entries(cells: &Bound<'_, PyAny>, seq: u64) -> PyResult<Vec<(Buf, PyVal)>> {
    let mut out = Vec::with_capacity(cells.len().unwrap_or(0));
    let mut key = Vec::new();
    for cell in cells.try_iter()? {
        let cell = cell?;
        let t = cell.cast::<PyTuple>()?;
        if t.len() != 5 {
            return Err(PyTypeError::new_err(
                "a cell is (row, qualifier, ts, type, value)",
            ));
        }
        let row = t.get_item(0)?;
        let qual = t.get_item(1)?;
        let ts: u64 = t.get_item(2)?.extract()?;
        let typ: u8 = t.get_item(3)?.extract()?;
        let (row, qual) = (row.cast::<PyBytes>()?, qual.cast::<PyBytes>()?);
        key.clear();
        keys::encode_into(&mut key, row.as_bytes(), qual.as_bytes(), ts, typ, seq);
        out.push((Arc::from(key.as_slice()), to_val(&t.get_item(4)?)?));
    }
    Ok(out)
}

impl MemStore {
    fn read(&self) -> RwLockReadGuard<'_, MemTable<PyVal>> {
        // a poisoned lock means a panic under it; the map is still consistent (every
        // mutation is one BTreeMap call plus an integer update), so keep serving
        self.table.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, MemTable<PyVal>> {
        self.table.write().unwrap_or_else(|e| e.into_inner())
    }

    fn insert(&self, entries: Vec<(Buf, PyVal)>) -> PyResult<i64> {
        self.write()
            .insert_all(entries)
            .map_err(|MemError::Frozen| frozen_error())
    }
}

#[pymethods]
impl MemStore {
    #[new]
    fn new() -> Self {
        MemStore {
            table: RwLock::new(MemTable::default()),
        }
    }

    fn __len__(&self) -> usize {
        self.read().len()
    }

    /// Key and value bytes plus a fixed overhead per entry (the flush threshold's unit).
    #[getter]
    fn size_bytes(&self) -> i64 {
        self.read().size_bytes()
    }

    /// True once `freeze` ran: the memstore is a flush snapshot.
    #[getter]
    fn frozen(&self) -> bool {
        self.read().frozen
    }

    /// Insert one entry (O(log n)).
    fn add(&self, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.insert(vec![(to_buf(key)?, to_val(value)?)])?;
        Ok(())
    }

    /// Insert several `(key, value)` entries under one lock hold; returns the bytes added.
    fn add_many(&self, entries: &Bound<'_, PyAny>) -> PyResult<i64> {
        let mut v = Vec::new();
        for e in entries.try_iter()? {
            let e = e?;
            let t = e.cast::<PyTuple>()?;
            if t.len() != 2 {
                return Err(PyTypeError::new_err("an entry is (key, value)"));
            }
            v.push((to_buf(&t.get_item(0)?)?, to_val(&t.get_item(1)?)?));
        }
        self.insert(v)
    }

    /// Insert `(row, qualifier, ts, type, value)` cells written at `seq` (their keys are
    /// encoded here, keys.rs) under one lock hold; returns the bytes added.
    fn add_cells(&self, cells: &Bound<'_, PyAny>, seq: u64) -> PyResult<i64> {
        let v = cell_entries(cells, seq)?;
        self.insert(v)
    }

    /// Take out the cells `add_cells(cells, seq)` inserted, for a write that failed
    /// (its seq is not complete, so no reader saw them). Allowed when frozen: the flush
    /// waits for that seq before reading the snapshot.
    fn remove_cells(&self, cells: &Bound<'_, PyAny>, seq: u64) -> PyResult<()> {
        let keys: Vec<Buf> = cell_entries(cells, seq)?.into_iter().map(|e| e.0).collect();
        self.write().remove_all(&keys);
        Ok(())
    }

    /// Take out entries a failed write inserted (see `remove_cells`).
    fn remove_many(&self, keys: &Bound<'_, PyAny>) -> PyResult<()> {
        let keys = keys
            .try_iter()?
            .map(|k| to_buf(&k?))
            .collect::<PyResult<Vec<_>>>()?;
        self.write().remove_all(&keys);
        Ok(())
    }

    /// Make the memstore read-only (it becomes a flush snapshot).
    fn freeze(&self) {
        self.write().freeze();
    }

    /// Up to `limit` `(key, value)` entries with `lo <= key` (`lo < key` when not
    /// `include_lo`) and `key < stop`, in key order, copied under one lock hold.
    #[pyo3(signature = (lo, include_lo, stop, limit))]
    fn scan<'py>(
        &self,
        py: Python<'py>,
        lo: &[u8],
        include_lo: bool,
        stop: Option<&[u8]>,
        limit: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let entries = self.read().scan(lo, include_lo, stop, limit);
        entries_list(py, entries)
    }

    /// Every entry with `start <= key < stop`, as one list (point reads: one row).
    fn items<'py>(
        &self,
        py: Python<'py>,
        start: &[u8],
        stop: &[u8],
    ) -> PyResult<Bound<'py, PyList>> {
        let entries = self.read().scan(start, true, Some(stop), usize::MAX);
        entries_list(py, entries)
    }

    /// The greatest key `< key`, or None (reverse scans).
    fn last_key_before<'py>(&self, py: Python<'py>, key: &[u8]) -> Option<Bound<'py, PyBytes>> {
        let k = self.read().last_key_before(key);
        k.map(|k| PyBytes::new(py, &k))
    }

    fn first_key<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        let k = self.read().first_key();
        k.map(|k| PyBytes::new(py, &k))
    }

    fn last_key<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        let k = self.read().last_key();
        k.map(|k| PyBytes::new(py, &k))
    }

    /// Assert the invariants (the size accounting matches the entries).
    fn _check(&self) -> PyResult<()> {
        self.read()
            .check()
            .map_err(pyo3::exceptions::PyAssertionError::new_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buf(b: &[u8]) -> Buf {
        Arc::from(b)
    }

    fn table(keys: &[&[u8]]) -> MemTable {
        let mut t: MemTable = MemTable::default();
        let entries = keys.iter().map(|k| (buf(k), buf(b"v"))).collect();
        t.insert_all(entries).expect("not frozen");
        t
    }

    #[test]
    fn accounting_follows_inserts_overwrites_and_removes() {
        let mut t: MemTable = MemTable::default();
        assert_eq!(t.insert_all(vec![(buf(b"abc"), buf(b"12345"))]), Ok(128));
        assert_eq!(t.insert_all(vec![(buf(b"abc"), buf(b"1"))]), Ok(-4));
        assert_eq!(t.size_bytes(), 4 + ENTRY_OVERHEAD);
        t.remove_all(&[b"abc".as_slice(), b"missing".as_slice()]);
        assert_eq!((t.size_bytes(), t.len()), (0, 0));
        t.check().expect("consistent");
        t.freeze();
        assert_eq!(
            t.insert_all(vec![(buf(b"x"), buf(b""))]),
            Err(MemError::Frozen)
        );
    }

    #[test]
    fn check_detects_bad_accounting() {
        let mut t = table(&[b"a", b"b"]);
        t.check().expect("consistent");
        t.size_bytes += 1;
        assert!(t.check().is_err());
    }

    #[test]
    fn scan_bounds_never_panic() {
        let t = table(&[b"b", b"d", b"f"]);
        let keys = |v: Vec<(Buf, Buf)>| v.into_iter().map(|e| e.0.to_vec()).collect::<Vec<_>>();
        assert_eq!(
            keys(t.scan(b"b", true, Some(b"f"), 10)),
            vec![b"b".to_vec(), b"d".to_vec()]
        );
        assert_eq!(
            keys(t.scan(b"b", false, None, 10)),
            vec![b"d".to_vec(), b"f".to_vec()]
        );
        assert_eq!(keys(t.scan(b"a", true, None, 1)), vec![b"b".to_vec()]);
        for (lo, inc, stop) in [
            (&b"d"[..], true, &b"d"[..]),
            (b"d", false, b"d"),
            (b"e", true, b"c"),
            (b"e", false, b"c"),
        ] {
            assert!(t.scan(lo, inc, Some(stop), 10).is_empty());
        }
        assert_eq!(t.last_key_before(b"d").as_deref(), Some(&b"b"[..]));
        assert_eq!(t.last_key_before(b"b"), None);
        assert_eq!(t.first_key().as_deref(), Some(&b"b"[..]));
        assert_eq!(t.last_key().as_deref(), Some(&b"f"[..]));
    }
}
