//! Internal keys: a byte encoding of (row, qualifier, timestamp, type, seq) that sorts as
//! HBase orders cells, so every comparison is a plain byte comparison.
//!
//! Format: `docs/formats/keys.md` (authoritative). Summary:
//!
//! ```text
//! internal_key := esc(row) TERM esc(qualifier) TERM inv_ts:u64be inv_type:u8 inv_seq:u64be
//! esc(b)       := b with every 0x00 replaced by 0x00 0xFF
//! TERM         := 0x00 0x01
//! inv_ts       := 2**64 - 1 - timestamp;  inv_type := 255 - type;  inv_seq := 2**64 - 1 - seq
//! ```
//!
//! Invariants: `split(encode(x)) == x`; `a < b` iff `encode(a) < encode(b)`. Byte-identical
//! with the Python encoding it replaced (tests/golden pins it).
//! Concurrency: pure functions.
//! Hot path: `encode_into` (every write), `split` (every read); bench/engine.py.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Terminates the escaped row and the escaped qualifier.
pub const TERM: [u8; 2] = [0x00, 0x01];
/// Follows an escaped row in `row_end`: above every key of the row, below the next row.
pub const ROW_END: [u8; 2] = [0x00, 0x02];
/// Length of the fixed (inv_ts, inv_type, inv_seq) suffix.
pub const SUFFIX_LEN: usize = 17;

/// Why bytes are not an internal key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// No terminator after the row or the qualifier.
    MissingTerminator,
    /// The suffix after the qualifier's terminator is not 17 bytes.
    BadSuffix(usize),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::MissingTerminator => write!(f, "not an internal key: terminator missing"),
            KeyError::BadSuffix(n) => write!(
                f,
                "not an internal key: {n} bytes after the qualifier, expected {SUFFIX_LEN}"
            ),
        }
    }
}

fn escaped_len(b: &[u8]) -> usize {
    b.len() + b.iter().filter(|&&c| c == 0).count()
}

/// Appends `esc(b)` to `out`.
pub fn escape_into(out: &mut Vec<u8>, b: &[u8]) {
    for part in b.split(|&c| c == 0).enumerate() {
        if part.0 > 0 {
            out.extend_from_slice(&[0x00, 0xff]);
        }
        out.extend_from_slice(part.1);
    }
}

/// Inverse of `escape_into` (a 0x00 not followed by 0xFF is kept as is, as Python's
/// `bytes.replace` chain did).
pub fn unescape(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        out.push(b[i]);
        i += if b[i] == 0 && b.get(i + 1) == Some(&0xff) {
            2
        } else {
            1
        };
    }
    out
}

/// The encoded length of one key (to size the buffer once).
pub fn encoded_len(row: &[u8], qualifier: &[u8]) -> usize {
    escaped_len(row) + escaped_len(qualifier) + 4 + SUFFIX_LEN
}

/// Appends the internal key of one cell to `out`.
pub fn encode_into(out: &mut Vec<u8>, row: &[u8], qualifier: &[u8], ts: u64, typ: u8, seq: u64) {
    escape_into(out, row);
    out.extend_from_slice(&TERM);
    escape_into(out, qualifier);
    out.extend_from_slice(&TERM);
    out.extend_from_slice(&(u64::MAX - ts).to_be_bytes());
    out.push(255 - typ);
    out.extend_from_slice(&(u64::MAX - seq).to_be_bytes());
}

/// The internal key of one cell.
pub fn encode(row: &[u8], qualifier: &[u8], ts: u64, typ: u8, seq: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(row, qualifier));
    encode_into(&mut out, row, qualifier, ts, typ, seq);
    out
}

fn find_term(key: &[u8], from: usize) -> Option<usize> {
    key.get(from..)?
        .windows(2)
        .position(|w| w == TERM)
        .map(|i| i + from)
}

/// A decoded key: escaped row and qualifier ranges plus the three numbers.
pub struct Split {
    pub row_end: usize,
    pub qual_start: usize,
    pub qual_end: usize,
    pub ts: u64,
    pub typ: u8,
    pub seq: u64,
}

/// Locates the parts of an internal key; an error for bytes that are not one.
pub fn split(key: &[u8]) -> Result<Split, KeyError> {
    let i = find_term(key, 0).ok_or(KeyError::MissingTerminator)?;
    let j = find_term(key, i + 2).ok_or(KeyError::MissingTerminator)?;
    let suffix = &key[j + 2..];
    if suffix.len() != SUFFIX_LEN {
        return Err(KeyError::BadSuffix(suffix.len()));
    }
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&suffix[..8]);
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&suffix[9..]);
    Ok(Split {
        row_end: i,
        qual_start: i + 2,
        qual_end: j,
        ts: u64::MAX - u64::from_be_bytes(ts),
        typ: 255 - suffix[8],
        seq: u64::MAX - u64::from_be_bytes(seq),
    })
}

/// A new `bytes` of the parts, escaped where `escape` says, built in place (one copy).
fn new_bytes<'py>(
    py: Python<'py>,
    parts: &[&[u8]],
    escape: &[bool],
) -> PyResult<Bound<'py, PyBytes>> {
    let len = parts
        .iter()
        .zip(escape)
        .map(|(p, &e)| if e { escaped_len(p) } else { p.len() })
        .sum();
    PyBytes::new_with(py, len, |buf| {
        let mut i = 0;
        for (p, &esc) in parts.iter().zip(escape) {
            for &c in p.iter() {
                buf[i] = c;
                i += 1;
                if esc && c == 0 {
                    buf[i] = 0xff;
                    i += 1;
                }
            }
        }
        Ok(())
    })
}

fn key_error(e: KeyError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Encode one cell coordinate as an internal key.
#[pyfunction]
pub fn encode_key<'py>(
    py: Python<'py>,
    row: &[u8],
    qualifier: &[u8],
    ts: u64,
    key_type: u8,
    seq: u64,
) -> PyResult<Bound<'py, PyBytes>> {
    let mut suffix = [0u8; SUFFIX_LEN];
    suffix[..8].copy_from_slice(&(u64::MAX - ts).to_be_bytes());
    suffix[8] = 255 - key_type;
    suffix[9..].copy_from_slice(&(u64::MAX - seq).to_be_bytes());
    new_bytes(
        py,
        &[row, &TERM, qualifier, &TERM, &suffix],
        &[true, false, true, false, false],
    )
}

/// `(row, qualifier, ts, type, seq)` as Python values.
type SplitKey<'py> = (Bound<'py, PyBytes>, Bound<'py, PyBytes>, u64, u8, u64);

/// Decode an internal key into `(row, qualifier, ts, type, seq)`.
#[pyfunction]
pub fn split_key<'py>(py: Python<'py>, key: &[u8]) -> PyResult<SplitKey<'py>> {
    let s = split(key).map_err(key_error)?;
    Ok((
        PyBytes::new(py, &unescape(&key[..s.row_end])),
        PyBytes::new(py, &unescape(&key[s.qual_start..s.qual_end])),
        s.ts,
        s.typ,
        s.seq,
    ))
}

/// The (unescaped) row of an internal key.
#[pyfunction]
pub fn row_of<'py>(py: Python<'py>, key: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let i = find_term(key, 0).ok_or_else(|| key_error(KeyError::MissingTerminator))?;
    Ok(PyBytes::new(py, &unescape(&key[..i])))
}

/// The prefix every internal key of `row` starts with; also the smallest such key.
#[pyfunction]
pub fn row_prefix<'py>(py: Python<'py>, row: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    new_bytes(py, &[row, &TERM], &[true, false])
}

/// A key above every internal key of `row` and below any later row's.
#[pyfunction]
pub fn row_end<'py>(py: Python<'py>, row: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    new_bytes(py, &[row, &ROW_END], &[true, false])
}

/// The prefix (and smallest key) of every internal key of one column.
#[pyfunction]
pub fn column_prefix<'py>(
    py: Python<'py>,
    row: &[u8],
    qualifier: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    new_bytes(
        py,
        &[row, &TERM, qualifier, &TERM],
        &[true, false, true, false],
    )
}

/// Registers the key functions on `_core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(encode_key, m)?)?;
    m.add_function(wrap_pyfunction!(split_key, m)?)?;
    m.add_function(wrap_pyfunction!(row_of, m)?)?;
    m.add_function(wrap_pyfunction!(row_prefix, m)?)?;
    m.add_function(wrap_pyfunction!(row_end, m)?)?;
    m.add_function(wrap_pyfunction!(column_prefix, m)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_documented_example() {
        let k = encode(b"r", b"q", 1, 4, 7);
        let hex: String = k.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "720001710001fffffffffffffffefbfffffffffffffff8");
    }

    #[test]
    fn round_trips_and_orders() {
        let rows: [&[u8]; 5] = [b"", b"\x00", b"\x00\x00", b"a\x00b", b"\xff\x00\x01"];
        let mut keys = Vec::new();
        for r in rows {
            for q in rows {
                for (ts, typ, seq) in [(0, 4, 0), (u64::MAX, 14, u64::MAX), (5, 8, 9)] {
                    let k = encode(r, q, ts, typ, seq);
                    assert_eq!(k.len(), encoded_len(r, q));
                    let s = split(&k).expect("a key we encoded");
                    assert_eq!(unescape(&k[..s.row_end]), r);
                    assert_eq!(unescape(&k[s.qual_start..s.qual_end]), q);
                    assert_eq!((s.ts, s.typ, s.seq), (ts, typ, seq));
                    keys.push(((r, q, std::cmp::Reverse(ts), std::cmp::Reverse(typ)), k));
                }
            }
        }
        let mut by_tuple = keys.clone();
        by_tuple.sort_by(|a, b| a.0.cmp(&b.0));
        keys.sort_by(|a, b| a.1.cmp(&b.1));
        let a: Vec<_> = keys.iter().map(|x| x.0).collect();
        let b: Vec<_> = by_tuple.iter().map(|x| x.0).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn malformed_keys_are_errors_not_panics() {
        for bad in [
            &b""[..],
            b"\x00",
            b"\x00\x01",
            b"a\x00\x01b\x00\x01short",
            b"\x00\x01\x00\x01",
        ] {
            assert!(split(bad).is_err(), "{bad:?}");
        }
        // every prefix and every one-byte change of a valid key
        let k = encode(b"ro\x00w", b"q", 3, 4, 5);
        for n in 0..k.len() {
            let _ = split(&k[..n]);
        }
        for i in 0..k.len() {
            let mut d = k.clone();
            d[i] ^= 0x5a;
            let _ = split(&d);
        }
    }
}
