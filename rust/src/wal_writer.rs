//! The write-ahead log's current file: created durable, appended to, fdatasynced and cut
//! back, all through the core's `Fs`.
//!
//! Role: `hedgerow.storage.wal.WriteAheadLog` (the group-commit state machine, still
//! Python) holds one `WalWriter` for the file it appends to; its write leader calls
//! `write`/`truncate`, its sync leader calls `sync`, a roll or repair calls `create`.
//! Format: docs/formats/wal.md (authoritative): `header := magic:8 version:u32le`, then
//! already-framed records (`wal_record::frame`); this module adds no bytes of its own.
//! Invariants: a file returned by `create` holds the header and the given records and is
//! on stable storage with its directory entry; a failed `create` leaves no file behind
//! (best effort). Bytes are written only where the caller asks (`write` appends,
//! `truncate` cuts back and moves the write position).
//! Concurrency: the RFC 0002 GIL rule. The file sits behind a `Mutex`. Every write and
//! fdatasync runs detached, small writes too: RFC 0002 planned to keep the GIL for a
//! write under 64 KiB, but with 8 clients doing FSYNC_WAL puts (`bench/server.py`) that
//! lost about 10% against the Python writer (whose `os.write` releases the GIL), while
//! detaching won about 20% (docs/benchmarks.md, "The WAL's file I/O in the core"): a
//! write leader holding the GIL stalls every thread that is parsing or appending the next
//! batch. With the native file system the mutex holder never needs the GIL, so `size`
//! takes it with the GIL held. The fdatasync goes through a `Syncer` (a second descriptor of the same file), never the
//! mutex, so the sync leader's fdatasync runs beside the write leader's next write, as
//! group commit needs. With a Python file system (MemFS, FaultFS) every call detaches
//! before taking the mutex and re-attaches inside each file call, so a thread waiting for
//! the mutex never holds the GIL its holder may need.
//! Hot path: `write` and `sync` (once per group-commit batch).

use std::sync::{Arc, Mutex, MutexGuard};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};

use crate::fs::{self, Fs, FsResult, Syncer, Writable};

/// The file header: magic then version (docs/formats/wal.md#field-grammar).
pub fn file_header(magic: &[u8; 8], version: u32) -> [u8; 12] {
    let mut h = [0u8; 12];
    h[..8].copy_from_slice(magic);
    h[8..].copy_from_slice(&version.to_le_bytes());
    h
}

/// Creates (truncates) `path`, writes the header and `records`, fdatasyncs the file and
/// syncs `dir` (its directory). On failure closes the file and returns the first error;
/// a file whose header was written is also removed (best effort: a stray copy of records
/// that are also in an older file is harmless). The file calls are exactly the ones the
/// Python writer made, in the same order, so seeded fault runs (FaultFS draws a random
/// number per matching call) replay as before; a file cut off inside its header is read
/// as an empty torn file (docs/formats/wal.md) and numbered below the next one.
pub fn create_log_file(
    fs: &dyn Fs,
    path: &str,
    dir: &str,
    magic: &[u8; 8],
    version: u32,
    records: &[u8],
) -> FsResult<Box<dyn Writable>> {
    let mut file = fs.open_write(path, false)?;
    if let Err(e) = file.write(&file_header(magic, version)) {
        let _ = file.close();
        return Err(e);
    }
    let filled = (|| {
        if !records.is_empty() {
            file.write(records)?;
        }
        file.sync()?;
        fs.sync_dir(dir)
    })();
    match filled {
        Ok(()) => Ok(file),
        Err(e) => {
            let _ = file.close();
            let _ = fs.remove(path);
            Err(e)
        }
    }
}

/// One open WAL file (see the module comment).
#[pyclass(frozen, module = "hedgerow._core")]
pub struct WalWriter {
    file: Mutex<Box<dyn Writable>>,
    /// Native files only; taken out by `close`.
    syncer: Mutex<Option<Arc<Syncer>>>,
    native: bool,
    path: String,
}

fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // a panic while holding it left the file as the OS has it: still usable
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl WalWriter {
    /// Runs `op` on the file under the mutex: detached when `detach` (or always with a
    /// Python file system, whose calls re-attach), else with the GIL held.
    fn with_file<T: Send>(
        &self,
        py: Python<'_>,
        detach: bool,
        op: impl FnOnce(&mut dyn Writable) -> FsResult<T> + Send,
    ) -> PyResult<T> {
        let r = if detach || !self.native {
            py.detach(|| op(lock(&self.file).as_mut()))
        } else {
            op(lock(&self.file).as_mut())
        };
        r.map_err(|e| e.into_pyerr(py))
    }
}

#[pymethods]
impl WalWriter {
    /// A new log file at `path` in directory `dir` holding the header and `records`
    /// (already framed), fdatasynced, its directory synced. Raises the file system's
    /// error (StorageError/StorageFull for the native one) and leaves no file behind.
    #[staticmethod]
    #[pyo3(signature = (fs, path, dir, magic, version, records = None))]
    fn create(
        py: Python<'_>,
        fs: &Bound<'_, PyAny>,
        path: String,
        dir: String,
        magic: &[u8],
        version: u32,
        records: Option<&[u8]>,
    ) -> PyResult<Self> {
        let magic: &[u8; 8] = magic
            .try_into()
            .map_err(|_| PyValueError::new_err("a log file magic is 8 bytes"))?;
        let imp = fs::from_python(fs)?;
        let records = records.unwrap_or_default();
        let file = py
            .detach(|| create_log_file(imp.as_ref(), &path, &dir, magic, version, records))
            .map_err(|e| e.into_pyerr(py))?;
        let syncer = file.syncer().map(Arc::new);
        Ok(WalWriter {
            native: syncer.is_some(),
            file: Mutex::new(file),
            syncer: Mutex::new(syncer),
            path,
        })
    }

    /// The file's path.
    #[getter]
    fn path(&self) -> &str {
        &self.path
    }

    /// True when the file is native (I/O runs without the GIL).
    #[getter]
    fn native(&self) -> bool {
        self.native
    }

    /// Appends `data` (bytes or bytearray of whole framed records); in the OS when this
    /// returns. On failure the file may hold part of it: the caller truncates it back.
    fn write(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        if let Ok(b) = data.cast::<PyBytes>() {
            let bytes = b.as_bytes();
            return self.with_file(py, true, |f| f.write(bytes));
        }
        if let Ok(b) = data.cast::<PyByteArray>() {
            // a bytearray may change while detached: copy it (one memcpy per batch)
            let owned = b.to_vec();
            return self.with_file(py, true, |f| f.write(&owned));
        }
        Err(PyTypeError::new_err(format!(
            "WalWriter.write takes bytes or bytearray, not {}",
            data.get_type().name()?
        )))
    }

    /// fdatasync: everything written so far is on stable storage when this returns.
    /// Never holds the GIL while syncing; a native file syncs beside a running write.
    fn sync(&self, py: Python<'_>) -> PyResult<()> {
        if self.native {
            let syncer = lock(&self.syncer).clone();
            let Some(syncer) = syncer else {
                return Err(PyValueError::new_err(format!(
                    "the write-ahead log file {} is closed",
                    self.path
                )));
            };
            return py.detach(|| syncer.sync()).map_err(|e| e.into_pyerr(py));
        }
        self.with_file(py, true, |f| f.sync())
    }

    /// Cuts the file to `size` bytes and moves the write position there (a failed
    /// batch is cut off so no record of it is replayed).
    fn truncate(&self, py: Python<'_>, size: u64) -> PyResult<()> {
        self.with_file(py, true, |f| f.truncate(size))
    }

    /// Bytes in the file so far, header included.
    fn size(&self, py: Python<'_>) -> PyResult<u64> {
        self.with_file(py, false, |f| Ok(f.tell()))
    }

    /// Closes the file (idempotent); later writes and syncs raise.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        lock(&self.syncer).take();
        self.with_file(py, true, |f| f.close())
    }

    fn __repr__(&self) -> String {
        format!("WalWriter({:?})", self.path)
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<WalWriter>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::NativeFs;

    fn tmpdir(name: &str) -> String {
        let d = std::env::temp_dir().join(format!("hedgerow-walw-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("tmp");
        d.to_str().expect("utf-8").to_owned()
    }

    #[test]
    fn create_writes_header_and_records_and_syncs_beside_writes() {
        let d = tmpdir("create");
        let p = format!("{d}/000000000001.log");
        let rec = crate::wal_record::frame(1, b"payload").expect("frame");
        let mut f = create_log_file(&NativeFs, &p, &d, b"\x89HRWAL\r\n", 1, &rec).expect("create");
        let syncer = f.syncer().expect("native files have a syncer");
        f.write(&rec).expect("write");
        syncer.sync().expect("sync through the second descriptor");
        assert_eq!(f.tell(), 12 + 2 * rec.len() as u64);
        let data = std::fs::read(&p).expect("read");
        assert_eq!(&data[..12], b"\x89HRWAL\r\n\x01\0\0\0");
        assert_eq!(&data[12..], [rec.clone(), rec].concat().as_slice());
        f.close().expect("close");
        std::fs::remove_dir_all(&d).expect("cleanup");
    }

    #[test]
    fn failed_create_leaves_no_file() {
        let d = tmpdir("fail");
        let p = format!("{d}/x.log");
        // the directory sync fails: the file must be removed again
        let r = create_log_file(&NativeFs, &p, &format!("{d}/missing"), b"12345678", 1, b"");
        assert!(r.is_err());
        assert!(!std::path::Path::new(&p).exists());
        std::fs::remove_dir_all(&d).expect("cleanup");
    }
}
