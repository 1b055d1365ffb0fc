//! PyO3 bindings of the file-level store-file pieces (RFC 0002 phase 2): the block cache
//! (`BlockCache`) and the writer (`StoreFileWriter`).
//!
//! Errors: a file-system failure becomes the exception `FsError::into_pyerr` makes
//! (StorageError / StorageFull, or a Python file system's own exception); a broken
//! contract (keys out of order, a block past 4 GiB, a call out of order) is a ValueError,
//! which `hedgerow.storage.sstable_writer` re-raises as InvalidArgument / ClosedError.
//! GIL: the writer encodes, compresses and writes with the GIL released; with a Python
//! file system (`fs::PyFs`: MemFS, FaultFS) each write attaches again for its own call.

use std::sync::Arc;

use parking_lot::Mutex;
use pyo3::exceptions::{PyAssertionError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use super::block::Block;
use super::bloom::BloomType;
use super::cache::{CacheKey, LruCache};
use super::compression::Codec;
use super::py::PyBlock;
use super::writer::{FileStats, StoreWriter, WriteError};
use crate::fs::{self, Fs};

/// What the cache holds: a decoded block (from Rust callers), or any Python object (the
/// Python reader caches its `Block` objects; tests cache strings).
#[derive(Clone)]
pub enum CacheValue {
    Block(Arc<Block>),
    Obj(Arc<Py<PyAny>>),
}

/// The process's block cache: `(file_id, offset) -> block`, bounded by bytes.
///
/// `get(key)` -> value or None; `put(key, value, charge_bytes, *, in_memory=False)`;
/// `evict_file(file_id)`; `clear()`; `stats()`; counters `hits`, `misses`, `evictions`,
/// `used_bytes`, `capacity_bytes`. See rust/src/sstable/cache.rs for the semantics.
#[pyclass(frozen, name = "BlockCache", module = "hedgerow._core")]
pub struct PyBlockCache {
    pub(crate) inner: Arc<LruCache<CacheValue>>,
    in_memory_capacity: u64,
}

fn drop_attached(_py: Python<'_>, values: Vec<CacheValue>) {
    drop(values); // Python references are released here, with the interpreter attached
}

#[pymethods]
impl PyBlockCache {
    #[new]
    #[pyo3(signature = (capacity_bytes, *, in_memory_fraction = 0.25))]
    fn new(capacity_bytes: i64, in_memory_fraction: f64) -> PyResult<Self> {
        let capacity = u64::try_from(capacity_bytes).map_err(|_| {
            PyValueError::new_err(format!("capacity_bytes must be >= 0, got {capacity_bytes}"))
        })?;
        if !(0.0..=1.0).contains(&in_memory_fraction) {
            return Err(PyValueError::new_err(format!(
                "in_memory_fraction must be in [0, 1], got {in_memory_fraction}"
            )));
        }
        Ok(PyBlockCache {
            inner: Arc::new(LruCache::new(capacity, in_memory_fraction)),
            // the fraction is in [0, 1]; truncation is intended (as int() in Python)
            in_memory_capacity: (capacity as f64 * in_memory_fraction) as u64,
        })
    }

    /// The cached value for `key`, or None (counts a hit or a miss).
    fn get(&self, py: Python<'_>, key: CacheKey) -> PyResult<Option<Py<PyAny>>> {
        Ok(match self.inner.get(key) {
            None => None,
            Some(CacheValue::Obj(o)) => Some(o.clone_ref(py)),
            Some(CacheValue::Block(b)) => Some(Py::new(py, PyBlock { inner: b })?.into_any()),
        })
    }

    /// Insert or replace `key`; evicts least recently used entries until the budget holds.
    #[pyo3(signature = (key, value, charge_bytes, *, in_memory = false))]
    fn put(
        &self,
        py: Python<'_>,
        key: CacheKey,
        value: Py<PyAny>,
        charge_bytes: u64,
        in_memory: bool,
    ) {
        let dropped = self.inner.put(
            key,
            CacheValue::Obj(Arc::new(value)),
            charge_bytes,
            in_memory,
        );
        drop_attached(py, dropped);
    }

    /// Drop every cached block of `file_id`; how many (not counted as evictions).
    fn evict_file(&self, py: Python<'_>, file_id: u64) -> usize {
        let (n, dropped) = self.inner.evict_file(file_id);
        drop_attached(py, dropped);
        n
    }

    /// Drop everything (counters are kept).
    fn clear(&self, py: Python<'_>) {
        let dropped = self.inner.clear();
        drop_attached(py, dropped);
    }

    #[getter]
    fn capacity_bytes(&self) -> u64 {
        self.inner.capacity()
    }

    #[getter]
    fn in_memory_capacity(&self) -> u64 {
        self.in_memory_capacity
    }

    #[getter]
    fn shards(&self) -> usize {
        self.inner.shard_count()
    }

    #[getter]
    fn hits(&self) -> u64 {
        self.inner.stats().hits
    }

    #[getter]
    fn misses(&self) -> u64 {
        self.inner.stats().misses
    }

    #[getter]
    fn evictions(&self) -> u64 {
        self.inner.stats().evictions
    }

    #[getter]
    fn used_bytes(&self) -> u64 {
        self.inner.stats().used_bytes
    }

    fn __len__(&self) -> usize {
        self.inner.stats().entries as usize
    }

    /// The counters: capacity_bytes, used_bytes, in_memory_bytes, entries, hits, misses,
    /// evictions.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("capacity_bytes", s.capacity_bytes)?;
        d.set_item("used_bytes", s.used_bytes)?;
        d.set_item("in_memory_bytes", s.in_memory_bytes)?;
        d.set_item("entries", s.entries)?;
        d.set_item("hits", s.hits)?;
        d.set_item("misses", s.misses)?;
        d.set_item("evictions", s.evictions)?;
        Ok(d)
    }

    /// Every cached key `(file_id, offset)` (for tests and tools; O(entries)).
    fn cached_keys(&self) -> Vec<CacheKey> {
        self.inner.keys()
    }

    /// Assert every invariant (AssertionError naming the broken one).
    fn check(&self) -> PyResult<()> {
        self.inner.check().map_err(PyAssertionError::new_err)
    }
}

/// Builds one store file through the core's `Fs`:
/// `add_batch* finish_blocks finish(meta_payload) sync_close`, or `abandon`.
#[pyclass(frozen, name = "StoreFileWriter", module = "hedgerow._core")]
pub struct PyStoreFileWriter {
    path: String,
    fs: Arc<dyn Fs>,
    state: Mutex<Option<StoreWriter>>,
}

fn write_err(py: Python<'_>, e: WriteError) -> PyErr {
    match e {
        WriteError::Invalid(m) => PyValueError::new_err(m),
        WriteError::Fs(e) => e.into_pyerr(py),
    }
}

fn closed(path: &str) -> WriteError {
    WriteError::Invalid(format!("store file writer for {path} is closed"))
}

impl PyStoreFileWriter {
    /// Runs `f` on the open writer with the GIL released.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut StoreWriter) -> Result<T, WriteError> + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            let mut g = self.state.lock();
            let w = g.as_mut().ok_or_else(|| closed(&self.path))?;
            f(w)
        })
        .map_err(|e| write_err(py, e))
    }
}

#[pymethods]
impl PyStoreFileWriter {
    /// Create (truncate) `path` on `fs` (a FileSystem object, or None for the local one).
    #[new]
    fn new(
        py: Python<'_>,
        fs: &Bound<'_, PyAny>,
        path: String,
        block_size: usize,
        codec: u8,
        bloom_type: u8,
    ) -> PyResult<Self> {
        let codec = Codec::from_id(codec)
            .ok_or_else(|| PyValueError::new_err(format!("unknown compression codec {codec}")))?;
        let bloom = BloomType::from_id(bloom_type)
            .ok_or_else(|| PyValueError::new_err(format!("unknown bloom type {bloom_type}")))?;
        if block_size == 0 {
            return Err(PyValueError::new_err("block_size must be positive"));
        }
        let imp = fs::from_python(fs)?;
        let file = py
            .detach(|| imp.open_write(&path, false))
            .map_err(|e| e.into_pyerr(py))?;
        let w = StoreWriter::new(&path, file, block_size, codec, bloom)
            .map_err(PyValueError::new_err)?;
        Ok(PyStoreFileWriter {
            path,
            fs: imp,
            state: Mutex::new(Some(w)),
        })
    }

    #[getter]
    fn path(&self) -> &str {
        &self.path
    }

    /// Entries added so far.
    #[getter]
    fn entries(&self) -> u64 {
        self.state.lock().as_ref().map_or(0, StoreWriter::entries)
    }

    /// Append parallel lists of keys and values (strictly increasing internal keys).
    fn add_batch(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyList>,
        values: &Bound<'_, PyList>,
    ) -> PyResult<()> {
        if keys.len() != values.len() {
            return Err(PyValueError::new_err(format!(
                "{} keys but {} values",
                keys.len(),
                values.len()
            )));
        }
        let mut batch = Vec::with_capacity(keys.len());
        for (k, v) in keys.iter().zip(values.iter()) {
            let k = k
                .cast_into::<PyBytes>()
                .map_err(|_| PyTypeError::new_err("store file keys are bytes"))?;
            let v = v
                .cast_into::<PyBytes>()
                .map_err(|_| PyTypeError::new_err("store file values are bytes"))?;
            batch.push((k.as_bytes().to_vec(), v.as_bytes().to_vec()));
        }
        self.with(py, move |w| {
            for (k, v) in batch {
                w.add(k, v)?;
            }
            Ok(())
        })
    }

    /// Write the last data block, the index and the bloom block; the computed properties
    /// as a dict (entries, first_key, last_key, min_seq, max_seq, min_ts, max_ts,
    /// delete_markers, data_blocks, index_depth, raw_key_bytes, raw_value_bytes).
    fn finish_blocks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s: FileStats = self.with(py, StoreWriter::finish_blocks)?;
        let d = PyDict::new(py);
        d.set_item("entries", s.entries)?;
        d.set_item("first_key", PyBytes::new(py, &s.first_key))?;
        d.set_item("last_key", PyBytes::new(py, &s.last_key))?;
        d.set_item("min_seq", s.min_seq)?;
        d.set_item("max_seq", s.max_seq)?;
        d.set_item("min_ts", s.min_ts)?;
        d.set_item("max_ts", s.max_ts)?;
        d.set_item("delete_markers", s.delete_markers)?;
        d.set_item("data_blocks", s.data_blocks)?;
        d.set_item("index_depth", s.index_depth)?;
        d.set_item("raw_key_bytes", s.raw_key_bytes)?;
        d.set_item("raw_value_bytes", s.raw_value_bytes)?;
        Ok(d)
    }

    /// Write the meta block (`meta_payload`, made by the caller) and the footer, and flush
    /// every buffered byte (not synced); the file size.
    fn finish(&self, py: Python<'_>, meta_payload: Vec<u8>) -> PyResult<u64> {
        self.with(py, move |w| w.finish(&meta_payload))
    }

    /// fdatasync and close; the writer is done.
    fn sync_close(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, StoreWriter::sync_close)?;
        *self.state.lock() = None;
        Ok(())
    }

    /// Close (unsynced) and remove the file. Safe to call more than once.
    fn abandon(&self, py: Python<'_>) -> PyResult<()> {
        let w = self.state.lock().take();
        let path = self.path.clone();
        let imp = self.fs.clone();
        py.detach(move || {
            let closed = match w {
                Some(mut w) => w.close(),
                None => Ok(()),
            };
            let removed = imp.remove(&path).map_err(WriteError::Fs);
            closed.and(removed)
        })
        .map_err(|e| write_err(py, e))
    }
}

/// Registers the classes on `_core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBlockCache>()?;
    m.add_class::<PyStoreFileWriter>()?;
    m.add_class::<super::reader::PyStoreFileReader>()?;
    m.add_class::<super::reader::PyStoreFileScan>()?;
    Ok(())
}
