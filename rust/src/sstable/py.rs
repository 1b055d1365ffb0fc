//! PyO3 bindings of the store-file pieces: `Block`, `BloomBuilder`, `BloomFilter`, and the
//! block/footer functions `hedgerow.storage.sstable_reader` and `sstable_writer` call.
//!
//! Errors: a malformed block or bloom payload raises `BlockFormatError` (a `ValueError`)
//! whose message the reader re-raises as `CorruptionError(message, path, offset)`; a bad
//! footer raises `hedgerow.errors.CorruptionError` / `FormatVersionError` directly.
//! The GIL is released while a block is decompressed and decoded, and while one is
//! compressed.

use pyo3::exceptions::{PyIndexError, PyValueError};
use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

use super::block::{self, Block};
use super::bloom::{self, BloomType};
use super::compression::{self, Codec};
use super::format::{self, BlockType, Footer, FooterError};

pyo3::create_exception!(
    hedgerow._core,
    BlockFormatError,
    PyValueError,
    "A block, bloom or compressed payload is malformed (the reader raises CorruptionError)."
);

fn format_error(msg: String) -> PyErr {
    BlockFormatError::new_err(msg)
}

fn block_type(id: u8) -> PyResult<BlockType> {
    BlockType::from_id(id).ok_or_else(|| PyValueError::new_err(format!("unknown block type {id}")))
}

fn codec(id: u8) -> PyResult<Codec> {
    Codec::from_id(id)
        .ok_or_else(|| PyValueError::new_err(format!("unknown compression codec {id}")))
}

fn bytes_list<'a, 'py>(list: &'a [Bound<'py, PyBytes>]) -> Vec<&'a [u8]> {
    list.iter().map(|b| b.as_bytes()).collect()
}

fn extract_bytes<'py>(list: &Bound<'py, PyList>, what: &str) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    list.iter()
        .map(|x| {
            x.cast_into::<PyBytes>().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err(format!("block {what} are bytes"))
            })
        })
        .collect()
}

/// One decoded data or index block (immutable; shared through the block cache).
#[pyclass(frozen, name = "Block", module = "hedgerow._core")]
pub struct PyBlock {
    pub(crate) inner: Arc<Block>,
}

/// Rough per-entry memory of a decoded block beyond its payload (the offsets, plus what a
/// caller's Python objects for it cost), for the block cache's budget.
const PER_ENTRY_CHARGE: usize = 16;

/// Approximate bytes of memory a decoded block holds (the block cache's charge).
pub(crate) fn block_charge(b: &Block) -> usize {
    b.payload_len() + PER_ENTRY_CHARGE * b.len() + 200
}

impl PyBlock {
    fn entries<'py>(&self, py: Python<'py>, i: usize, j: usize) -> PyResult<Bound<'py, PyList>> {
        let j = j.min(self.inner.len());
        // x < len, so key and value exist; the defaults only keep this panic-free
        let items = (i.min(j)..j).map(|x| {
            let k = self.inner.key(x).unwrap_or_default();
            let v = self.inner.value(x).unwrap_or_default();
            (PyBytes::new(py, k), PyBytes::new(py, v))
        });
        PyList::new(py, items)
    }
}

#[pymethods]
impl PyBlock {
    /// Decode a payload (already verified and decompressed); BlockFormatError if malformed.
    #[new]
    fn new(py: Python<'_>, payload: &[u8]) -> PyResult<Self> {
        let inner = py
            .detach(|| Block::decode(payload.to_vec()))
            .map_err(format_error)?;
        Ok(PyBlock {
            inner: Arc::new(inner),
        })
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Approximate bytes of memory the block holds (the block cache's charge).
    #[getter]
    fn charge(&self) -> usize {
        block_charge(&self.inner)
    }

    /// Index of the first entry at or after `lo` whose key is `>= key` (`len` if none).
    #[pyo3(signature = (key, lo = 0))]
    fn seek(&self, key: &[u8], lo: usize) -> usize {
        self.inner.seek_from(lo, key)
    }

    /// Key `i`; IndexError when out of range.
    fn key<'py>(&self, py: Python<'py>, i: usize) -> PyResult<Bound<'py, PyBytes>> {
        self.inner
            .key(i)
            .map(|k| PyBytes::new(py, k))
            .ok_or_else(|| PyIndexError::new_err(format!("block entry {i} out of range")))
    }

    /// Value `i`; IndexError when out of range.
    fn value<'py>(&self, py: Python<'py>, i: usize) -> PyResult<Bound<'py, PyBytes>> {
        self.inner
            .value(i)
            .map(|v| PyBytes::new(py, v))
            .ok_or_else(|| PyIndexError::new_err(format!("block entry {i} out of range")))
    }

    /// Every key, in order.
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(
            py,
            (0..self.inner.len())
                .filter_map(|i| self.inner.key(i))
                .map(|k| PyBytes::new(py, k)),
        )
    }

    /// `(key, value)` of entries `i .. j-1` (`j` defaults to the end), clamped to the block.
    #[pyo3(signature = (i = 0, j = None))]
    fn items<'py>(
        &self,
        py: Python<'py>,
        i: usize,
        j: Option<usize>,
    ) -> PyResult<Bound<'py, PyList>> {
        self.entries(py, i, j.unwrap_or(usize::MAX))
    }

    /// Entries with `lo <= key < hi`, and whether the block has a key `>= hi` (so no later
    /// block can hold more of the range).
    fn range<'py>(
        &self,
        py: Python<'py>,
        lo: &[u8],
        hi: &[u8],
    ) -> PyResult<(Bound<'py, PyList>, bool)> {
        let i = self.inner.seek(lo);
        let j = self.inner.seek_from(i, hi);
        Ok((self.entries(py, i, j)?, j < self.inner.len()))
    }

    /// Entry `i`'s value as a block handle `(offset, size)`; BlockFormatError if it is not one.
    fn handle(&self, i: usize) -> PyResult<(u64, u32)> {
        self.inner.handle(i).map_err(format_error)
    }

    /// The handle of the first entry whose separator is `>= key`; None past the end.
    fn child(&self, key: &[u8]) -> PyResult<Option<(u64, u32)>> {
        let i = self.inner.seek(key);
        if i == self.inner.len() {
            return Ok(None);
        }
        self.inner.handle(i).map(Some).map_err(format_error)
    }
}

/// Verify a block read back (stored bytes + 6-byte trailer) against its crc and expected
/// type, decompress it and decode it as a data or index block.
#[pyfunction]
fn decode_block(py: Python<'_>, raw: &[u8], expected: u8) -> PyResult<PyBlock> {
    let expected = block_type(expected)?;
    let inner = py
        .detach(|| {
            let payload = format::open(raw, expected)?;
            Block::decode(payload.into_owned())
                .map_err(|e| format!("malformed {} block: {e}", expected.name()))
        })
        .map_err(format_error)?;
    Ok(PyBlock {
        inner: Arc::new(inner),
    })
}

/// Verify a block read back (stored bytes + trailer) and return its decompressed payload.
#[pyfunction]
fn open_block<'py>(py: Python<'py>, raw: &[u8], expected: u8) -> PyResult<Bound<'py, PyBytes>> {
    let expected = block_type(expected)?;
    let payload = py.detach(|| format::open(raw, expected).map(|p| p.into_owned()));
    Ok(PyBytes::new(py, &payload.map_err(format_error)?))
}

/// Encode parallel lists of keys and values as one block payload.
#[pyfunction]
fn encode_block<'py>(
    py: Python<'py>,
    keys: &Bound<'py, PyList>,
    values: &Bound<'py, PyList>,
) -> PyResult<Bound<'py, PyBytes>> {
    let (k, v) = (
        extract_bytes(keys, "keys")?,
        extract_bytes(values, "values")?,
    );
    let out = block::encode(&bytes_list(&k), &bytes_list(&v)).map_err(PyValueError::new_err)?;
    Ok(PyBytes::new(py, &out))
}

/// Compress `payload` and append the trailer: `(bytes to write, handle size)`.
#[pyfunction]
fn seal_block<'py>(
    py: Python<'py>,
    payload: &[u8],
    block_type_id: u8,
    codec_id: u8,
) -> PyResult<(Bound<'py, PyBytes>, usize)> {
    let (t, c) = (block_type(block_type_id)?, codec(codec_id)?);
    let (out, size) = py.detach(|| format::seal(payload, t, c));
    Ok((PyBytes::new(py, &out), size))
}

/// `seal_block(encode_block(keys, values), block_type, codec)` in one call.
#[pyfunction]
fn seal_entries<'py>(
    py: Python<'py>,
    keys: &Bound<'py, PyList>,
    values: &Bound<'py, PyList>,
    block_type_id: u8,
    codec_id: u8,
) -> PyResult<(Bound<'py, PyBytes>, usize)> {
    let (t, c) = (block_type(block_type_id)?, codec(codec_id)?);
    let (k, v) = (
        extract_bytes(keys, "keys")?,
        extract_bytes(values, "values")?,
    );
    let (kb, vb) = (bytes_list(&k), bytes_list(&v));
    let (out, size) = py
        .detach(|| block::encode(&kb, &vb).map(|p| format::seal(&p, t, c)))
        .map_err(PyValueError::new_err)?;
    Ok((PyBytes::new(py, &out), size))
}

/// Compress with `codec`: `(codec actually used, stored bytes)` (NONE when it saves < 1/8).
#[pyfunction]
fn compress_block<'py>(
    py: Python<'py>,
    codec_id: u8,
    raw: &[u8],
) -> PyResult<(u8, Bound<'py, PyBytes>)> {
    let c = codec(codec_id)?;
    let (used, out) = py.detach(|| {
        let (used, out) = compression::compress(c, raw);
        (used, out.into_owned())
    });
    Ok((used as u8, PyBytes::new(py, &out)))
}

/// Undo `compress_block`; BlockFormatError on an unknown codec or bad input.
#[pyfunction]
fn decompress<'py>(py: Python<'py>, codec_id: u8, stored: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let out = py.detach(|| compression::decompress(codec_id, stored).map(|c| c.into_owned()));
    Ok(PyBytes::new(py, &out.map_err(format_error)?))
}

pub(crate) fn raise(py: Python<'_>, class: &str, msg: String, path: &str, offset: u64) -> PyErr {
    let made = py
        .import("hedgerow.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|cls| cls.call1((msg, path, offset)));
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

/// The footer's fields `(meta_off, meta_size, index_off, index_size, bloom_off,
/// bloom_size, index_depth, version)`; raises CorruptionError / FormatVersionError.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn parse_footer(
    py: Python<'_>,
    raw: &[u8],
    file_size: u64,
    path: &str,
) -> PyResult<(u64, u32, u64, u32, u64, u32, u8, u32)> {
    match format::parse_footer(raw, file_size) {
        Ok(f) => Ok((
            f.meta.0,
            f.meta.1,
            f.index.0,
            f.index.1,
            f.bloom.0,
            f.bloom.1,
            f.index_depth,
            f.version,
        )),
        Err(FooterError::Corrupt(m, off)) => Err(raise(py, "CorruptionError", m, path, off)),
        Err(FooterError::Version(m, off)) => Err(raise(py, "FormatVersionError", m, path, off)),
    }
}

/// The 56-byte footer (current version) for these handles and index depth.
#[pyfunction]
fn encode_footer<'py>(
    py: Python<'py>,
    meta: (u64, u32),
    index: (u64, u32),
    bloom: (u64, u32),
    index_depth: u8,
) -> Bound<'py, PyBytes> {
    let f = Footer {
        meta,
        index,
        bloom,
        index_depth,
        version: format::FORMAT_VERSION,
    };
    PyBytes::new(py, &format::encode_footer(&f))
}

fn to_bloom_type(id: u8) -> PyResult<BloomType> {
    BloomType::from_id(id).ok_or_else(|| PyValueError::new_err(format!("unknown bloom type {id}")))
}

/// Collects a file's bloom items; `(add | add_keys)* finish`.
#[pyclass(name = "BloomBuilder", module = "hedgerow._core")]
pub struct PyBloomBuilder {
    inner: bloom::BloomBuilder,
}

#[pymethods]
impl PyBloomBuilder {
    #[new]
    // literal defaults (bloom::DEFAULT_BITS_PER_ITEM, DEFAULT_NUM_PROBES) so the signature shows them
    #[pyo3(signature = (bloom_type, bits_per_item = 10, num_probes = 7))]
    fn new(bloom_type: u8, bits_per_item: usize, num_probes: u8) -> PyResult<Self> {
        let inner = bloom::BloomBuilder::new(to_bloom_type(bloom_type)?, bits_per_item, num_probes)
            .map_err(PyValueError::new_err)?;
        Ok(PyBloomBuilder { inner })
    }

    /// The filter's type (a BloomType value).
    #[getter]
    fn bloom_type(&self) -> u8 {
        self.inner.bloom_type() as u8
    }

    /// Distinct items added so far.
    #[getter]
    fn num_items(&self) -> usize {
        self.inner.num_items()
    }

    /// Add one item (skipped when equal to the previous one).
    fn add(&mut self, item: &[u8]) {
        self.inner.add(item);
    }

    /// Add the items of a sorted run of internal keys (one data block's keys).
    fn add_keys(&mut self, keys: &Bound<'_, PyList>) -> PyResult<()> {
        for k in extract_bytes(keys, "keys")? {
            self.inner.add_key(k.as_bytes());
        }
        Ok(())
    }

    /// The bloom block payload.
    fn finish<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.finish())
    }
}

/// A loaded bloom filter (immutable).
#[pyclass(frozen, name = "BloomFilter", module = "hedgerow._core")]
pub struct PyBloomFilter {
    inner: bloom::BloomFilter,
}

#[pymethods]
impl PyBloomFilter {
    /// Decode a bloom block payload; BlockFormatError if malformed.
    #[new]
    fn new(payload: &[u8]) -> PyResult<Self> {
        let inner = bloom::BloomFilter::decode(payload).map_err(format_error)?;
        Ok(PyBloomFilter { inner })
    }

    /// The filter's type (a BloomType value).
    #[getter]
    fn bloom_type(&self) -> u8 {
        self.inner.bloom_type() as u8
    }

    /// Distinct items the writer added.
    #[getter]
    fn num_items(&self) -> u32 {
        self.inner.num_items()
    }

    /// False only if `item` was certainly never added.
    fn may_contain(&self, item: &[u8]) -> bool {
        self.inner.may_contain(item)
    }

    /// For a ROW filter: could `row` be in the file? (True for other filter types.)
    fn may_contain_row(&self, row: &[u8]) -> bool {
        self.inner.may_contain_row(row)
    }

    /// For a ROWCOL filter: could column `row`/`qualifier` be in the file?
    fn may_contain_rowcol(&self, row: &[u8], qualifier: &[u8]) -> bool {
        self.inner.may_contain_rowcol(row, qualifier)
    }
}

/// Registers the store-file classes and functions on `_core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("BlockFormatError", m.py().get_type::<BlockFormatError>())?;
    m.add_class::<PyBlock>()?;
    m.add_class::<PyBloomBuilder>()?;
    m.add_class::<PyBloomFilter>()?;
    m.add_function(wrap_pyfunction!(decode_block, m)?)?;
    m.add_function(wrap_pyfunction!(open_block, m)?)?;
    m.add_function(wrap_pyfunction!(encode_block, m)?)?;
    m.add_function(wrap_pyfunction!(seal_block, m)?)?;
    m.add_function(wrap_pyfunction!(seal_entries, m)?)?;
    m.add_function(wrap_pyfunction!(compress_block, m)?)?;
    m.add_function(wrap_pyfunction!(decompress, m)?)?;
    m.add_function(wrap_pyfunction!(parse_footer, m)?)?;
    m.add_function(wrap_pyfunction!(encode_footer, m)?)?;
    Ok(())
}
