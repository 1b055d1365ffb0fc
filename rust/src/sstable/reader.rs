//! The store-file reader's read path in Rust (RFC 0002 phase 2): block reads through the
//! core's `RandomAccess`, the process's block cache, the index descent, point reads by
//! row, batched range iteration and `last_key_before`.
//!
//! Role: `hedgerow.storage.sstable_reader.SSTableReader` opens a file (footer, meta
//! block, bloom: decoded in Python or by the other core functions) and hands this
//! `StoreFileReader` the root index handle, depth and key bounds (`set_index`); every read
//! after that is one call here.
//! Format: docs/formats/sstable.md (authoritative).
//! Errors: a bad block (crc, type, codec, malformed offsets, a handle that is not one, a
//! short read) raises `CorruptionError(message, path, block offset)`; a failed read
//! raises `StorageError`/`StorageFull` naming the file and offset (a Python file object's
//! `OSError` is mapped the same way; its other exceptions pass through unchanged); a read
//! after `close` raises `ClosedError`.
//! GIL: released for the `pread` and the decoding of a block on a cache miss (a Python
//! file object attaches again for its own call); cache hits and binary searches run with
//! it held (they take well under a microsecond).
//! Concurrency: thread-safe; the file handle is shared (`pread` needs no lock).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use super::block::Block;
use super::format::{self, BlockType, TRAILER_SIZE};
use super::py::{block_charge, raise, PyBlock};
use super::py_store::{CacheValue, PyBlockCache};
use crate::fs::{self, FsError, RandomAccess};

enum ReadError {
    Corrupt(String, u64),
    Fs(FsError, u64),
    Closed,
    Py(PyErr),
}

struct Index {
    root: Arc<Block>,
    depth: u8,
    first_key: Vec<u8>,
    last_key: Vec<u8>,
    entries: u64,
}

/// The read path of one open store file.
#[pyclass(frozen, name = "StoreFileReader", module = "hedgerow._core")]
pub struct PyStoreFileReader {
    path: String,
    file_id: u64,
    file: RwLock<Option<Arc<dyn RandomAccess>>>,
    cache: Option<Py<PyBlockCache>>,
    cache_blocks: bool,
    in_memory: AtomicBool,
    index: RwLock<Option<Arc<Index>>>,
}

/// A position in the file: the index path from the root to a data block, and an entry.
struct Cursor {
    /// (index block, entry) per level, root first
    path: Vec<(Arc<Block>, usize)>,
    data: Arc<Block>,
    i: usize,
}

impl PyStoreFileReader {
    fn err(&self, py: Python<'_>, e: ReadError) -> PyErr {
        match e {
            ReadError::Corrupt(m, off) => raise(py, "CorruptionError", m, &self.path, off),
            ReadError::Closed => raise_closed(py, &self.path),
            ReadError::Py(e) => e,
            ReadError::Fs(e, off) => {
                let what = format!("reading store file {} at offset {off}", self.path);
                match e {
                    FsError::Io { source, .. } => FsError::Io { what, source }.into_pyerr(py),
                    FsError::Py(e) if e.is_instance_of::<PyOSError>(py) => {
                        let mapped = py
                            .import("hedgerow.errors")
                            .and_then(|m| m.getattr("storage_error"))
                            .and_then(|f| f.call1((e.value(py), what.as_str())));
                        match mapped {
                            Ok(exc) => PyErr::from_value(exc),
                            Err(e) => e,
                        }
                    }
                    FsError::Py(e) => e,
                }
            }
        }
    }

    fn handle_file(&self) -> Result<Arc<dyn RandomAccess>, ReadError> {
        self.file.read().clone().ok_or(ReadError::Closed)
    }

    fn read_raw(file: &dyn RandomAccess, (offset, size): (u64, u32)) -> Result<Vec<u8>, ReadError> {
        let want = size as usize + TRAILER_SIZE;
        let raw = file
            .pread(want, offset)
            .map_err(|e| ReadError::Fs(e, offset))?;
        if raw.len() != want {
            return Err(ReadError::Corrupt(
                format!(
                    "short read: wanted {want} bytes, got {} (truncated?)",
                    raw.len()
                ),
                offset,
            ));
        }
        Ok(raw)
    }

    fn decode(raw: &[u8], expected: BlockType, offset: u64) -> Result<Block, ReadError> {
        let payload = format::open(raw, expected).map_err(|m| ReadError::Corrupt(m, offset))?;
        Block::decode(payload.into_owned()).map_err(|e| {
            ReadError::Corrupt(format!("malformed {} block: {e}", expected.name()), offset)
        })
    }

    /// A decoded block via the cache: no read on a hit, one `pread` on a miss.
    fn block(
        &self,
        py: Python<'_>,
        handle: (u64, u32),
        expected: BlockType,
    ) -> Result<Arc<Block>, ReadError> {
        let key = (self.file_id, handle.0);
        let cache = self.cache.as_ref().map(|c| c.get());
        if let Some(c) = cache {
            match c.inner.get(key) {
                Some(CacheValue::Block(b)) => return Ok(b),
                Some(CacheValue::Obj(o)) => {
                    if let Ok(b) = o.bind(py).cast::<PyBlock>() {
                        return Ok(b.get().inner.clone());
                    }
                }
                None => {}
            }
        }
        let file = self.handle_file()?;
        let block = py.detach(|| {
            let raw = Self::read_raw(file.as_ref(), handle)?;
            Self::decode(&raw, expected, handle.0).map(Arc::new)
        })?;
        if let Some(c) = cache {
            if self.cache_blocks || expected != BlockType::Data {
                let charge = block_charge(&block) as u64;
                let dropped = c.inner.put(
                    key,
                    CacheValue::Block(block.clone()),
                    charge,
                    self.in_memory.load(Ordering::Relaxed),
                );
                drop(dropped);
            }
        }
        Ok(block)
    }

    fn index(&self) -> Result<Arc<Index>, ReadError> {
        self.index
            .read()
            .clone()
            .ok_or_else(|| ReadError::Corrupt("the reader has no index".to_owned(), 0))
    }

    fn child_handle(b: &Block, i: usize) -> Result<(u64, u32), ReadError> {
        // the offset of a bad handle is unknown: report 0 as Python did (None)
        b.handle(i).map_err(|m| ReadError::Corrupt(m, 0))
    }

    /// The cursor at the first entry `>= key` (`> key` when `after`); None past the end.
    fn seek(
        &self,
        py: Python<'_>,
        idx: &Index,
        key: &[u8],
        after: bool,
    ) -> Result<Option<Cursor>, ReadError> {
        let mut path = Vec::with_capacity(idx.depth as usize);
        let mut block = idx.root.clone();
        for level in (1..=idx.depth).rev() {
            let i = block.seek(key);
            if i == block.len() {
                return Ok(None);
            }
            let h = Self::child_handle(&block, i)?;
            path.push((block, i));
            let t = if level == 1 {
                BlockType::Data
            } else {
                BlockType::Index
            };
            block = self.block(py, h, t)?;
        }
        let mut i = block.seek(key);
        if after && block.key(i) == Some(key) {
            i += 1;
        }
        let mut c = Cursor {
            path,
            data: block,
            i,
        };
        if c.i >= c.data.len() && !self.next_block(py, &mut c)? {
            return Ok(None);
        }
        Ok(Some(c))
    }

    /// Move the cursor to the first entry of the next data block; false at the end.
    fn next_block(&self, py: Python<'_>, c: &mut Cursor) -> Result<bool, ReadError> {
        // climb to the lowest level with a next entry
        let mut level = c.path.len();
        loop {
            if level == 0 {
                return Ok(false);
            }
            let (b, i) = &mut c.path[level - 1];
            if *i + 1 < b.len() {
                *i += 1;
                break;
            }
            level -= 1;
        }
        // descend leftmost
        let depth = c.path.len();
        for l in level..=depth {
            let (b, i) = &c.path[l - 1];
            let h = Self::child_handle(b, *i)?;
            let t = if l == depth {
                BlockType::Data
            } else {
                BlockType::Index
            };
            let child = self.block(py, h, t)?;
            if l == depth {
                c.data = child;
            } else {
                c.path[l] = (child, 0);
            }
        }
        c.i = 0;
        if c.data.is_empty() {
            return self.next_block(py, c);
        }
        Ok(true)
    }

    /// `(key, value)` of entries `i .. j` as a new list (one exact-size allocation).
    fn entries<'py>(
        py: Python<'py>,
        b: &Block,
        i: usize,
        j: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let j = j.min(b.len());
        // x < len, so key and value exist; the defaults only keep this panic-free
        PyList::new(
            py,
            (i.min(j)..j).map(|x| {
                let k = b.key(x).unwrap_or_default();
                let v = b.value(x).unwrap_or_default();
                (PyBytes::new(py, k), PyBytes::new(py, v))
            }),
        )
    }
}

fn raise_closed(py: Python<'_>, path: &str) -> PyErr {
    let made = py
        .import("hedgerow.errors")
        .and_then(|m| m.getattr("ClosedError"))
        .and_then(|cls| cls.call1((format!("store file {path} is closed"),)));
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

#[pymethods]
impl PyStoreFileReader {
    /// Read `path` through `file` (a RandomAccessFile-like Python object), or, when `file`
    /// is None, open it on `fs` (None or LocalFS: natively, reads without the GIL).
    #[new]
    #[pyo3(signature = (fs, path, file_id, cache, cache_blocks, file = None))]
    fn new(
        py: Python<'_>,
        fs: &Bound<'_, PyAny>,
        path: String,
        file_id: u64,
        cache: Option<Py<PyBlockCache>>,
        cache_blocks: bool,
        file: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let handle: Arc<dyn RandomAccess> = match file {
            Some(f) => Arc::from(fs::random_access_from_python(f)),
            None => {
                let imp = fs::from_python(fs)?;
                let f = py
                    .detach(|| imp.open_read(&path))
                    .map_err(|e| e.into_pyerr(py))?;
                Arc::from(f)
            }
        };
        Ok(PyStoreFileReader {
            path,
            file_id,
            file: RwLock::new(Some(handle)),
            cache,
            cache_blocks,
            in_memory: AtomicBool::new(false),
            index: RwLock::new(None),
        })
    }

    /// Blocks go to the cache's in-memory list (the family's IN_MEMORY option).
    #[getter]
    fn get_in_memory(&self) -> bool {
        self.in_memory.load(Ordering::Relaxed)
    }

    #[setter]
    fn set_in_memory(&self, v: bool) {
        self.in_memory.store(v, Ordering::Relaxed);
    }

    /// The file's size.
    fn size(&self, py: Python<'_>) -> PyResult<u64> {
        let f = self.handle_file().map_err(|e| self.err(py, e))?;
        py.detach(|| f.size())
            .map_err(|e| self.err(py, ReadError::Fs(e, 0)))
    }

    /// Up to `n` bytes at `offset` (no cache).
    fn pread<'py>(&self, py: Python<'py>, n: usize, offset: u64) -> PyResult<Bound<'py, PyBytes>> {
        let f = self.handle_file().map_err(|e| self.err(py, e))?;
        let raw = py
            .detach(|| f.pread(n, offset))
            .map_err(|e| self.err(py, ReadError::Fs(e, offset)))?;
        Ok(PyBytes::new(py, &raw))
    }

    /// Read, verify and decompress one block's payload (no cache); CorruptionError if bad.
    fn read_block<'py>(
        &self,
        py: Python<'py>,
        handle: (u64, u32),
        expected: u8,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let t = BlockType::from_id(expected)
            .ok_or_else(|| pyo3::exceptions::PyValueError::new_err("unknown block type"))?;
        let f = self.handle_file().map_err(|e| self.err(py, e))?;
        let payload = py
            .detach(|| {
                let raw = Self::read_raw(f.as_ref(), handle)?;
                format::open(&raw, t)
                    .map(|p| p.into_owned())
                    .map_err(|m| ReadError::Corrupt(m, handle.0))
            })
            .map_err(|e| self.err(py, e))?;
        Ok(PyBytes::new(py, &payload))
    }

    /// A decoded data or index block via the cache.
    fn block_at(&self, py: Python<'_>, handle: (u64, u32), expected: u8) -> PyResult<PyBlock> {
        let t = BlockType::from_id(expected)
            .ok_or_else(|| pyo3::exceptions::PyValueError::new_err("unknown block type"))?;
        let inner = self.block(py, handle, t).map_err(|e| self.err(py, e))?;
        Ok(PyBlock { inner })
    }

    /// Load the root index block and record the depth and key bounds (once, at open).
    fn set_index(
        &self,
        py: Python<'_>,
        root: (u64, u32),
        depth: u8,
        first_key: Vec<u8>,
        last_key: Vec<u8>,
        entries: u64,
    ) -> PyResult<()> {
        if depth == 0 {
            return Err(self.err(py, ReadError::Corrupt("index depth 0".to_owned(), root.0)));
        }
        let f = self.handle_file().map_err(|e| self.err(py, e))?;
        let block = py
            .detach(|| {
                let raw = Self::read_raw(f.as_ref(), root)?;
                Self::decode(&raw, BlockType::Index, root.0)
            })
            .map_err(|e| self.err(py, e))?;
        *self.index.write() = Some(Arc::new(Index {
            root: Arc::new(block),
            depth,
            first_key,
            last_key,
            entries,
        }));
        Ok(())
    }

    /// The root index block.
    #[getter]
    fn root(&self, py: Python<'_>) -> PyResult<PyBlock> {
        let idx = self.index().map_err(|e| self.err(py, e))?;
        Ok(PyBlock {
            inner: idx.root.clone(),
        })
    }

    /// All entries with `row_prefix <= key < row_end` (one row), in key order.
    fn get_row<'py>(
        &self,
        py: Python<'py>,
        row_prefix: &[u8],
        row_end: &[u8],
    ) -> PyResult<Bound<'py, PyList>> {
        let idx = self.index().map_err(|e| self.err(py, e))?;
        let out = PyList::empty(py);
        if idx.entries == 0
            || row_prefix > idx.last_key.as_slice()
            || row_end <= idx.first_key.as_slice()
        {
            return Ok(out);
        }
        let Some(mut c) = self
            .seek(py, &idx, row_prefix, false)
            .map_err(|e| self.err(py, e))?
        else {
            return Ok(PyList::empty(py));
        };
        // fast path: the row ends inside the first block
        let j = c.data.seek_from(c.i, row_end);
        let out = Self::entries(py, &c.data, c.i, j)?;
        if j < c.data.len() {
            return Ok(out);
        }
        // slow path: the row spans blocks
        while self.next_block(py, &mut c).map_err(|e| self.err(py, e))? {
            let j = c.data.seek_from(c.i, row_end);
            for item in Self::entries(py, &c.data, c.i, j)?.iter() {
                out.append(item)?;
            }
            if j < c.data.len() {
                break;
            }
        }
        Ok(out)
    }

    /// A lazy scan of the entries with `start <= key < stop` (no bound when None).
    #[pyo3(signature = (start, stop = None))]
    fn scan(slf: Bound<'_, Self>, start: Vec<u8>, stop: Option<Vec<u8>>) -> PyStoreFileScan {
        PyStoreFileScan {
            reader: slf.unbind(),
            stop,
            state: Mutex::new(ScanState::Start(start)),
        }
    }

    /// The greatest key `< key` in the file, or None.
    fn last_key_before<'py>(
        &self,
        py: Python<'py>,
        key: &[u8],
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let idx = self.index().map_err(|e| self.err(py, e))?;
        if idx.entries == 0 || key <= idx.first_key.as_slice() {
            return Ok(None);
        }
        if key > idx.last_key.as_slice() {
            return Ok(Some(PyBytes::new(py, &idx.last_key)));
        }
        let mut best: Option<Vec<u8>> = None;
        let mut block = idx.root.clone();
        for level in (1..=idx.depth).rev() {
            let i = block.seek(key);
            if i > 0 {
                best = block.key(i - 1).map(<[u8]>::to_vec);
            }
            let h = Self::child_handle(&block, i).map_err(|e| self.err(py, e))?;
            let t = if level == 1 {
                BlockType::Data
            } else {
                BlockType::Index
            };
            block = self.block(py, h, t).map_err(|e| self.err(py, e))?;
        }
        let j = block.seek(key);
        let found = if j > 0 {
            block.key(j - 1).map(<[u8]>::to_vec)
        } else {
            best
        };
        Ok(found.map(|k| PyBytes::new(py, &k)))
    }

    /// Drop the file handle; later reads raise ClosedError. Cached blocks stay cached.
    fn close(&self) {
        self.file.write().take();
    }
}

enum ScanState {
    Start(Vec<u8>),
    At(Cursor),
    Done,
}

/// One lazy range scan of a store file: `next_batch(max)` returns the next entries, never
/// more than the rest of the current data block, and an empty list at the end. The
/// position (index path and data block) is kept between calls, so each block is read
/// (or found in the cache) once.
#[pyclass(frozen, name = "StoreFileScan", module = "hedgerow._core")]
pub struct PyStoreFileScan {
    reader: Py<PyStoreFileReader>,
    stop: Option<Vec<u8>>,
    state: Mutex<ScanState>,
}

impl PyStoreFileScan {
    fn step<'py>(
        &self,
        py: Python<'py>,
        r: &PyStoreFileReader,
        max: usize,
        out: &mut Bound<'py, PyList>,
    ) -> Result<ScanState, ReadError> {
        // the state is taken out, so no lock is held across reads
        let st = std::mem::replace(&mut *self.state.lock(), ScanState::Done);
        let mut c = match st {
            ScanState::Done => return Ok(ScanState::Done),
            ScanState::At(c) => c,
            ScanState::Start(start) => {
                let idx = r.index()?;
                match r.seek(py, &idx, &start, false)? {
                    Some(c) => c,
                    None => return Ok(ScanState::Done),
                }
            }
        };
        if c.i >= c.data.len() && !r.next_block(py, &mut c)? {
            return Ok(ScanState::Done);
        }
        let end = match &self.stop {
            Some(s) => c.data.seek_from(c.i, s),
            None => c.data.len(),
        };
        let j = end.min(c.i.saturating_add(max));
        *out = PyStoreFileReader::entries(py, &c.data, c.i, j).map_err(ReadError::Py)?;
        c.i = j;
        if j == end && end < c.data.len() {
            return Ok(ScanState::Done); // reached `stop`
        }
        Ok(ScanState::At(c))
    }
}

#[pymethods]
impl PyStoreFileScan {
    /// Up to `max` next entries (from one data block); `[]` when the scan is over.
    fn next_batch<'py>(&self, py: Python<'py>, max: usize) -> PyResult<Bound<'py, PyList>> {
        let mut out = PyList::empty(py);
        let r = self.reader.get();
        let max = max.max(1);
        loop {
            let next = self.step(py, r, max, &mut out).map_err(|e| r.err(py, e))?;
            let done = matches!(next, ScanState::Done);
            *self.state.lock() = next;
            if done || !out.is_empty() {
                return Ok(out);
            }
        }
    }
}
