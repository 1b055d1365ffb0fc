//! Log-record framing: frame one record; walk a log file's records and classify the
//! first bad one as a torn tail or corruption.
//!
//! Role: `hedgerow.storage.wal_writer.frame_record` (every WAL append and manifest edit)
//! and `hedgerow.storage.wal_reader.read_log_file` (recovery of the WAL and the
//! manifest) call into this module. File I/O stays in Python (the `FileSystem` protocol).
//! Format: docs/formats/wal.md#field-grammar and #corruption-and-recovery-rules
//! (authoritative). Summary:
//!
//! ```text
//! record := crc32c(type + payload):u32le  len(payload):u32le  type:u8  payload
//! ```
//!
//! A record at `p` is valid iff its type is expected, `len <= MAX_PAYLOAD` and fits in
//! the data, and the crc matches. At an invalid record the next valid offset `q > p` is
//! searched byte by byte: found -> corruption (resume at `q`); none -> the record is the
//! last one, torn (cut off by EOF, or zero from `p` or from a 512-byte boundary inside
//! it to EOF, or complete when the tail is lenient) or corruption (resume at EOF).
//! Invariants: the scan never reads outside `data` and never panics, whatever the bytes
//! (unit tests, a randomized test and `rust/fuzz/fuzz_targets/wal_record.rs`); its
//! messages are the ones the Python reader produced, word for word.
//! Concurrency: pure functions; `scan_log` releases the GIL while it walks the data.
//! Hot path: `frame` (every logged write); `scan` is recovery only.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

/// crc (4) + length (4) + type (1).
pub const HEADER_SIZE: usize = 9;
/// The largest payload a record may carry (256 MiB).
pub const MAX_PAYLOAD: u32 = 256 << 20;
/// A power cut can leave a file's later part unwritten (zeros) from a sector boundary.
pub const SECTOR_BYTES: usize = 512;

/// crc32c over the type byte followed by the payload (what the record header stores).
pub fn record_crc(rtype: u8, payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&[rtype]), payload)
}

/// `header + payload` for one record; None when the payload is over `MAX_PAYLOAD`.
pub fn frame(rtype: u8, payload: &[u8]) -> Option<Vec<u8>> {
    let n = u32::try_from(payload.len())
        .ok()
        .filter(|&n| n <= MAX_PAYLOAD)?;
    let mut out = Vec::with_capacity(HEADER_SIZE + payload.len());
    out.extend_from_slice(&record_crc(rtype, payload).to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.push(rtype);
    out.extend_from_slice(payload);
    Some(out)
}

fn header_at(data: &[u8], pos: usize) -> Option<(u32, u32, u8)> {
    let h = data.get(pos..pos.checked_add(HEADER_SIZE)?)?;
    let crc = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
    Some((crc, len, h[8]))
}

/// End offset of a valid record at `pos`.
pub fn valid_at(data: &[u8], pos: usize, types: &[u8]) -> Option<usize> {
    let (crc, len, rtype) = header_at(data, pos)?;
    let start = pos + HEADER_SIZE;
    let end = start.checked_add(len as usize)?;
    if !types.contains(&rtype) || len > MAX_PAYLOAD || end > data.len() {
        return None;
    }
    (record_crc(rtype, &data[start..end]) == crc).then_some(end)
}

/// Smallest offset `>= start` holding a valid record.
pub fn next_valid(data: &[u8], start: usize, types: &[u8]) -> Option<usize> {
    let last = data.len().checked_sub(HEADER_SIZE)?;
    // a record's type byte is at +8: test only offsets whose type byte is expected
    (start..=last).find(|&q| types.contains(&data[q + 8]) && valid_at(data, q, types).is_some())
}

fn describe_bad(data: &[u8], pos: usize, types: &[u8]) -> String {
    let n = data.len();
    let Some((_, len, rtype)) = header_at(data, pos) else {
        return format!(
            "header cut off by end of file ({} of {HEADER_SIZE} bytes)",
            n.saturating_sub(pos)
        );
    };
    if !types.contains(&rtype) {
        return format!("has unexpected type {rtype}");
    }
    if len > MAX_PAYLOAD {
        return format!("has impossible length {len}");
    }
    if pos + HEADER_SIZE + len as usize > n {
        return format!("of length {len} cut off by end of file");
    }
    "checksum mismatch".to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Torn,
    Complete,
    Damaged,
}

/// Torn, complete or damaged, and why, for the bad last record at `pos`
/// (docs/formats/wal.md, rule 2).
fn last_record_verdict(data: &[u8], pos: usize) -> (Verdict, String) {
    let n = data.len();
    let tail = &data[pos.min(n)..];
    let zeros_from = pos + tail.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    if zeros_from == pos {
        return (Verdict::Torn, "zero-filled to the end of the file".into());
    }
    let Some((crc, len, rtype)) = header_at(data, pos) else {
        return (Verdict::Torn, "cut off by the end of the file".into());
    };
    let end = pos + HEADER_SIZE + len as usize;
    let boundary = zeros_from.div_ceil(SECTOR_BYTES) * SECTOR_BYTES;
    if boundary < end.min(n) {
        return (
            Verdict::Torn,
            format!("zero-filled from the sector boundary at offset {boundary} to the end"),
        );
    }
    if end <= n {
        return (
            Verdict::Complete,
            format!("it is complete, ending at offset {end} within the file"),
        );
    }
    if record_crc(rtype, &data[pos + HEADER_SIZE..]) == crc {
        return (
            Verdict::Damaged,
            format!(
                "its checksum matches the {} payload bytes up to the end of the file, so its \
                 length field ({len}) is damaged",
                n - pos - HEADER_SIZE
            ),
        );
    }
    (Verdict::Torn, "cut off by the end of the file".into())
}

/// Where a scan stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Every byte was a valid record.
    End,
    /// The last record, at `pos`, is torn: drop `pos..EOF`.
    Torn {
        pos: usize,
        reason: String,
        why: String,
    },
    /// Corruption at `pos`; a reader that skips it resumes at `resume` (maybe EOF).
    Corrupt {
        pos: usize,
        detail: String,
        resume: usize,
    },
}

/// One valid record: its offset, type and end offset (payload is `pos + 9 .. end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub pos: usize,
    pub rtype: u8,
    pub end: usize,
}

/// Walks records from `pos` until the end of `data` or the first bad record.
pub fn scan(data: &[u8], mut pos: usize, types: &[u8], lenient_tail: bool) -> (Vec<Record>, Stop) {
    let n = data.len();
    let mut records = Vec::new();
    while pos < n {
        if let Some(end) = valid_at(data, pos, types) {
            records.push(Record {
                pos,
                rtype: data[pos + 8],
                end,
            });
            pos = end;
            continue;
        }
        let reason = describe_bad(data, pos, types);
        let stop = match next_valid(data, pos + 1, types) {
            Some(q) => Stop::Corrupt {
                pos,
                detail: format!("log record {reason}; valid records follow at offset {q}"),
                resume: q,
            },
            None => {
                let (mut verdict, mut why) = last_record_verdict(data, pos);
                if verdict == Verdict::Complete && lenient_tail {
                    verdict = Verdict::Torn;
                    why = format!("{why}, but this log's tail may never have been synced");
                }
                if verdict == Verdict::Torn {
                    Stop::Torn { pos, reason, why }
                } else {
                    Stop::Corrupt {
                        pos,
                        detail: format!(
                            "log record {reason}; it is the last record but not a torn write \
                             ({why})"
                        ),
                        resume: n,
                    }
                }
            }
        };
        return (records, stop);
    }
    (records, Stop::End)
}

/// Return `header + payload` for one record (one crc pass, one copy).
#[pyfunction]
pub fn frame_record<'py>(
    py: Python<'py>,
    record_type: u8,
    payload: &[u8],
) -> PyResult<Bound<'py, PyBytes>> {
    let framed = frame(record_type, payload).ok_or_else(|| {
        PyValueError::new_err(format!(
            "record payload of {} bytes is over {MAX_PAYLOAD}",
            payload.len()
        ))
    })?;
    Ok(PyBytes::new(py, &framed))
}

/// Walk the records of `data` from `pos`: `(records, stop)` where `records` is a list of
/// `(offset, type, end)` and `stop` is None (clean end), `("torn", pos, reason, why, eof)`
/// or `("corrupt", pos, detail, "", resume)`.
#[pyfunction]
#[pyo3(signature = (data, pos, record_types, lenient_tail))]
pub fn scan_log<'py>(
    py: Python<'py>,
    data: &[u8],
    pos: usize,
    record_types: &[u8],
    lenient_tail: bool,
) -> PyResult<(Bound<'py, PyList>, Option<Bound<'py, PyTuple>>)> {
    // `data` is borrowed from an immutable bytes object, which lives as long as the call
    let (records, stop) = py.detach(|| scan(data, pos, record_types, lenient_tail));
    let list = PyList::new(py, records.iter().map(|r| (r.pos, r.rtype, r.end)))?;
    let stop = match stop {
        Stop::End => None,
        Stop::Torn { pos, reason, why } => {
            Some(("torn", pos, reason, why, data.len()).into_pyobject(py)?)
        }
        Stop::Corrupt {
            pos,
            detail,
            resume,
        } => Some(("corrupt", pos, detail, String::new(), resume).into_pyobject(py)?),
    };
    Ok((list, stop))
}

/// Registers the record functions on `_core`.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(frame_record, m)?)?;
    m.add_function(wrap_pyfunction!(scan_log, m)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &[u8] = &[1];

    fn log(payloads: &[&[u8]]) -> Vec<u8> {
        payloads
            .iter()
            .flat_map(|p| frame(1, p).expect("small"))
            .collect()
    }

    #[test]
    fn frame_matches_the_documented_bytes() {
        let hex: String = frame(1, b"")
            .expect("empty")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, "52d016a00000000001");
    }

    #[test]
    fn clean_log_scans_to_the_end() {
        let data = log(&[b"a", b"", b"ccc"]);
        let (recs, stop) = scan(&data, 0, T, false);
        assert_eq!(stop, Stop::End);
        assert_eq!(
            recs.iter()
                .map(|r| r.end - r.pos - HEADER_SIZE)
                .collect::<Vec<_>>(),
            [1, 0, 3]
        );
    }

    #[test]
    fn truncation_at_every_offset_is_a_torn_tail_after_a_prefix() {
        let data = log(&[b"first", b"second record", b"third"]);
        for cut in 0..data.len() {
            let (recs, stop) = scan(&data[..cut], 0, T, false);
            assert!(recs.iter().all(|r| r.end <= cut));
            match stop {
                Stop::End => assert!(recs.last().map_or(cut == 0, |r| r.end == cut)),
                Stop::Torn { pos, .. } => assert_eq!(pos, recs.last().map_or(0, |r| r.end)),
                Stop::Corrupt { .. } => panic!("a cut at {cut} is not corruption"),
            }
        }
    }

    #[test]
    fn a_bad_middle_record_is_corruption_with_a_resume_point() {
        let mut data = log(&[b"first", b"second", b"third"]);
        data[14 + HEADER_SIZE] ^= 1; // a payload byte of "second"
        let (recs, stop) = scan(&data, 0, T, true);
        assert_eq!(recs.len(), 1);
        assert_eq!(
            stop,
            Stop::Corrupt {
                pos: 14,
                detail: "log record checksum mismatch; valid records follow at offset 29".into(),
                resume: 29
            }
        );
    }

    #[test]
    fn complete_bad_last_record_depends_on_lenient_tail() {
        let mut data = log(&[b"first", b"last"]);
        let n = data.len();
        data[n - 1] ^= 0xff;
        assert!(matches!(scan(&data, 0, T, true).1, Stop::Torn { .. }));
        assert!(matches!(scan(&data, 0, T, false).1, Stop::Corrupt { resume, .. } if resume == n));
    }

    #[test]
    fn damaged_length_is_corruption() {
        let mut data = log(&[b"first", b"last"]);
        data[14 + 4] = 99; // the second record's length runs past EOF, its crc still matches
        let stop = scan(&data, 0, T, true).1;
        assert!(
            matches!(stop, Stop::Corrupt { ref detail, .. } if detail.contains("length field (99)"))
        );
    }

    #[test]
    fn hostile_inputs_never_panic() {
        let cases: [&[u8]; 6] = [
            b"",
            &[0xff; 9],
            &[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1],
            &[0, 0, 0, 0, 0, 0, 0, 0x10, 1, 0],
            &[1; 600],
            &[0; 2000],
        ];
        for c in cases {
            for pos in [0, 1, c.len(), c.len() + 5] {
                let _ = scan(c, pos, &[1, 2], false);
                let _ = scan(c, pos, &[], true);
            }
        }
    }

    /// A bounded stand-in for the fuzz target (which needs cargo-fuzz): random logs with
    /// random damage, truncation and garbage; the scan must stay in bounds, only ever
    /// return valid records, and stop as the rules say.
    #[test]
    fn randomized_damage_never_panics_and_keeps_the_rules() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = move |m: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % m.max(1) as u64) as usize
        };
        for _ in 0..3000 {
            let payloads: Vec<Vec<u8>> = (0..rnd(6))
                .map(|_| (0..rnd(700)).map(|_| rnd(256) as u8).collect())
                .collect();
            let refs: Vec<&[u8]> = payloads.iter().map(|p| p.as_slice()).collect();
            let mut data = log(&refs);
            match rnd(4) {
                0 if !data.is_empty() => {
                    let i = rnd(data.len());
                    data[i] ^= 1 << rnd(8);
                }
                1 => data.truncate(rnd(data.len() + 1)),
                2 => data.extend((0..rnd(40)).map(|_| rnd(3) as u8)),
                _ => {}
            }
            let lenient = rnd(2) == 0;
            let mut pos = 0;
            loop {
                let (recs, stop) = scan(&data, pos, &[1, 2], lenient);
                for r in &recs {
                    assert!(r.pos >= pos && r.end <= data.len());
                    assert_eq!(valid_at(&data, r.pos, &[1, 2]), Some(r.end));
                }
                match stop {
                    Stop::End | Stop::Torn { .. } => break,
                    Stop::Corrupt { resume, pos: p, .. } => {
                        assert!(resume > p && resume <= data.len());
                        pos = resume;
                    }
                }
            }
        }
    }
}
