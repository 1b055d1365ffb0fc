//! The file-system seam of the core: what every Rust reader and writer does its I/O through.
//!
//! Role: RFC 0002 ("The FileSystem seam", phase 2). Store-file readers and writers, the
//! WAL and the manifest take an `Arc<dyn Fs>`. Two implementations:
//! - `NativeFs`: `std::fs` with positional reads (`pread`), `fdatasync` and directory
//!   syncs. It never touches Python, so a caller may run it with the GIL released. Used
//!   when Python passes `None` or the stock `hedgerow.storage.fs.LocalFS`.
//! - `PyFs`: any Python object with the `FileSystem` protocol of `storage/fs.py` (MemFS,
//!   FaultFS, a test's own), each call attaching to the interpreter. Tests with power
//!   cuts and injected faults keep working on the Rust code unchanged.
//!
//! Semantics follow `LocalFS` exactly (the Python protocol's docstrings are the
//! contract): `listdir` of a missing directory is empty and sorted, `remove` and `rmtree`
//! of a missing path succeed, `rename` and `link` make the new name durable (the parent
//! directory is synced), `link` falls back to a synced copy where hard links fail, a
//! writable file opened without `append` is truncated, `truncate` moves the write
//! position. The directory lock stays in Python (taken once at open, by the lifecycle).
//! Errors: `FsError`; `into_pyerr` turns it into the Python exception
//! `hedgerow.errors.storage_error` makes of the same `OSError` (so ENOSPC is
//! `StorageFull`), or passes a Python file system's own exception through unchanged.
//! Concurrency: `Fs` and `RandomAccess` are `Send + Sync` (positional reads need no
//! lock); a `Writable` has one owner, as in Python.

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use pyo3::exceptions::{PyOSError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Why a file operation failed.
#[derive(Debug)]
pub enum FsError {
    /// The OS refused: `what` names the operation and path.
    Io { what: String, source: io::Error },
    /// A Python file system raised (its exception, untouched).
    Py(PyErr),
}

pub type FsResult<T> = Result<T, FsError>;

impl FsError {
    fn io(what: impl Into<String>, source: io::Error) -> Self {
        FsError::Io {
            what: what.into(),
            source,
        }
    }

    /// The Python exception for this error: an OS error becomes what
    /// `hedgerow.errors.storage_error(OSError, what)` returns (`StorageFull` for
    /// ENOSPC/EDQUOT, else `StorageError` naming the operation, the `OSError` its cause).
    pub fn into_pyerr(self, py: Python<'_>) -> PyErr {
        match self {
            FsError::Py(e) => e,
            FsError::Io { what, source } => {
                // OSError(errno, strerror) sets .errno and picks the subclass
                // (FileNotFoundError...) as os.* would; PyO3's own io::Error conversion
                // keeps only the message
                let os: PyErr = match source.raw_os_error() {
                    Some(code) => {
                        let text = io::Error::from_raw_os_error(code).to_string();
                        let text = text.split(" (os error").next().unwrap_or("").to_owned();
                        PyOSError::new_err((code, text))
                    }
                    None => source.into(),
                };
                let mapped = py
                    .import("hedgerow.errors")
                    .and_then(|m| m.getattr("storage_error"))
                    .and_then(|f| f.call1((os.value(py), what.as_str())));
                match mapped {
                    Ok(exc) => PyErr::from_value(exc),
                    Err(e) => e,
                }
            }
        }
    }
}

impl std::fmt::Display for FsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FsError::Io { what, source } => write!(f, "{what}: {source}"),
            FsError::Py(e) => write!(f, "{e}"),
        }
    }
}

/// A file opened for positional reads; safe to share between threads.
pub trait RandomAccess: Send + Sync {
    /// Up to `n` bytes at `offset` (fewer only at the end of the file).
    fn pread(&self, n: usize, offset: u64) -> FsResult<Vec<u8>>;
    fn size(&self) -> FsResult<u64>;
}

/// A file opened for appending; one owner.
pub trait Writable: Send {
    /// Appends all of `data` (in the OS page cache when this returns).
    fn write(&mut self, data: &[u8]) -> FsResult<()>;
    /// fdatasync: on stable storage when this returns.
    fn sync(&mut self) -> FsResult<()>;
    fn tell(&self) -> u64;
    /// Cuts the file to `size` bytes and moves the write position there.
    fn truncate(&mut self, size: u64) -> FsResult<()>;
    fn close(&mut self) -> FsResult<()>;
    /// A second handle that fdatasyncs this file while its owner goes on writing (the
    /// WAL's sync leader runs beside its write leader); None for a file that cannot be
    /// shared that way (a Python file: its calls are serialized by the owner instead).
    fn syncer(&self) -> Option<Syncer> {
        None
    }
}

/// Syncs one native file from any thread, independently of its `Writable`.
#[derive(Debug)]
pub struct Syncer {
    file: File,
    path: String,
}

impl Syncer {
    /// fdatasync: everything written to the file (through any handle) is on stable
    /// storage when this returns.
    pub fn sync(&self) -> FsResult<()> {
        self.file
            .sync_data()
            .map_err(|e| FsError::io(format!("sync {}", self.path), e))
    }
}

/// The operations the core needs; `storage/fs.py`'s `FileSystem` minus the lock.
pub trait Fs: Send + Sync {
    fn open_read(&self, path: &str) -> FsResult<Box<dyn RandomAccess>>;
    fn open_write(&self, path: &str, append: bool) -> FsResult<Box<dyn Writable>>;
    fn read_all(&self, path: &str) -> FsResult<Vec<u8>>;
    fn exists(&self, path: &str) -> FsResult<bool>;
    /// Sorted names; empty when the directory does not exist.
    fn listdir(&self, path: &str) -> FsResult<Vec<String>>;
    fn makedirs(&self, path: &str) -> FsResult<()>;
    /// Succeeds when the file is already gone.
    fn remove(&self, path: &str) -> FsResult<()>;
    /// Succeeds when the directory is already gone.
    fn rmtree(&self, path: &str) -> FsResult<()>;
    /// Atomically replaces `dst` with `src`; durable when this returns.
    fn rename(&self, src: &str, dst: &str) -> FsResult<()>;
    /// `dst` becomes another name of the immutable file `src` (a synced copy where hard
    /// links fail); durable when this returns.
    fn link(&self, src: &str, dst: &str) -> FsResult<()>;
    fn file_size(&self, path: &str) -> FsResult<u64>;
    fn sync_dir(&self, path: &str) -> FsResult<()>;
}

// ---- NativeFs -------------------------------------------------------------------------

/// The local file system through `std::fs`; never needs the GIL.
#[derive(Debug, Default, Clone, Copy)]
pub struct NativeFs;

struct NativeRead {
    file: File,
    path: String,
}

impl RandomAccess for NativeRead {
    fn pread(&self, n: usize, offset: u64) -> FsResult<Vec<u8>> {
        let mut buf = vec![0u8; n];
        let mut got = 0;
        while got < n {
            match self.file.read_at(&mut buf[got..], offset + got as u64) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(FsError::io(format!("read {}", self.path), e)),
            }
        }
        buf.truncate(got);
        Ok(buf)
    }

    fn size(&self) -> FsResult<u64> {
        self.file
            .metadata()
            .map(|m| m.len())
            .map_err(|e| FsError::io(format!("stat {}", self.path), e))
    }
}

struct NativeWrite {
    file: Option<File>,
    path: String,
    pos: u64,
}

impl NativeWrite {
    fn file(&mut self) -> FsResult<&mut File> {
        let path = &self.path;
        self.file.as_mut().ok_or_else(|| {
            FsError::io(
                format!("write {path}"),
                io::Error::other("the file is closed"),
            )
        })
    }
}

impl Writable for NativeWrite {
    fn write(&mut self, data: &[u8]) -> FsResult<()> {
        let what = format!("write {}", self.path);
        // write_all retries short writes and EINTR; a failure leaves `pos` where the
        // OS left the file, which the caller truncates back (as LocalWritableFile)
        let f = self.file()?;
        f.write_all(data).map_err(|e| FsError::io(what, e))?;
        self.pos += data.len() as u64;
        Ok(())
    }

    fn sync(&mut self) -> FsResult<()> {
        let what = format!("sync {}", self.path);
        self.file()?.sync_data().map_err(|e| FsError::io(what, e))
    }

    fn tell(&self) -> u64 {
        self.pos
    }

    fn truncate(&mut self, size: u64) -> FsResult<()> {
        use std::io::{Seek, SeekFrom};
        let what = format!("truncate {}", self.path);
        let f = self.file()?;
        f.set_len(size).map_err(|e| FsError::io(what.clone(), e))?;
        // without O_APPEND the next write goes to the file offset: move it too
        f.seek(SeekFrom::Start(size))
            .map_err(|e| FsError::io(what, e))?;
        self.pos = size;
        Ok(())
    }

    fn close(&mut self) -> FsResult<()> {
        self.file = None; // dropping closes; close(2) errors are not reported by std
        Ok(())
    }

    fn syncer(&self) -> Option<Syncer> {
        // a dup(2) of the descriptor: same open file, so its fdatasync covers our writes
        let file = self.file.as_ref()?.try_clone().ok()?;
        Some(Syncer {
            file,
            path: self.path.clone(),
        })
    }
}

fn parent_of(path: &str) -> &str {
    match Path::new(path).parent().and_then(|p| p.to_str()) {
        Some("") | None => ".",
        Some(p) => p,
    }
}

fn ignore_missing(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

impl Fs for NativeFs {
    fn open_read(&self, path: &str) -> FsResult<Box<dyn RandomAccess>> {
        let file = File::open(path).map_err(|e| FsError::io(format!("open {path}"), e))?;
        Ok(Box::new(NativeRead {
            file,
            path: path.to_owned(),
        }))
    }

    fn open_write(&self, path: &str, append: bool) -> FsResult<Box<dyn Writable>> {
        let mut o = OpenOptions::new();
        o.write(true).create(true);
        if append {
            o.append(true);
        } else {
            o.truncate(true);
        }
        let file = o
            .open(path)
            .map_err(|e| FsError::io(format!("create {path}"), e))?;
        let pos = file
            .metadata()
            .map_err(|e| FsError::io(format!("stat {path}"), e))?
            .len();
        Ok(Box::new(NativeWrite {
            file: Some(file),
            path: path.to_owned(),
            pos,
        }))
    }

    fn read_all(&self, path: &str) -> FsResult<Vec<u8>> {
        std::fs::read(path).map_err(|e| FsError::io(format!("read {path}"), e))
    }

    fn exists(&self, path: &str) -> FsResult<bool> {
        Path::new(path)
            .try_exists()
            .map_err(|e| FsError::io(format!("stat {path}"), e))
    }

    fn listdir(&self, path: &str) -> FsResult<Vec<String>> {
        let what = || format!("list {path}");
        let entries = match std::fs::read_dir(path) {
            Ok(it) => it,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(FsError::io(what(), e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| FsError::io(what(), e))?;
            match entry.file_name().into_string() {
                Ok(name) => names.push(name),
                Err(raw) => {
                    // Python's os.listdir would surrogate-escape it; no name Hedgerow
                    // writes is like that, so say so instead of guessing
                    return Err(FsError::io(
                        what(),
                        io::Error::new(
                            ErrorKind::InvalidData,
                            format!("a file name is not UTF-8: {raw:?}"),
                        ),
                    ));
                }
            }
        }
        names.sort();
        Ok(names)
    }

    fn makedirs(&self, path: &str) -> FsResult<()> {
        std::fs::create_dir_all(path).map_err(|e| FsError::io(format!("mkdir {path}"), e))
    }

    fn remove(&self, path: &str) -> FsResult<()> {
        ignore_missing(std::fs::remove_file(path))
            .map_err(|e| FsError::io(format!("remove {path}"), e))
    }

    fn rmtree(&self, path: &str) -> FsResult<()> {
        ignore_missing(std::fs::remove_dir_all(path))
            .map_err(|e| FsError::io(format!("rmtree {path}"), e))
    }

    fn rename(&self, src: &str, dst: &str) -> FsResult<()> {
        std::fs::rename(src, dst).map_err(|e| FsError::io(format!("rename {src} to {dst}"), e))?;
        self.sync_dir(parent_of(dst))
    }

    fn link(&self, src: &str, dst: &str) -> FsResult<()> {
        if let Err(e) = std::fs::hard_link(src, dst) {
            // the errnos LocalFS.link falls back on: EXDEV, EPERM, EMLINK, ENOTSUP
            const FALLBACK: [i32; 4] = [18, 1, 31, 95];
            if !e.raw_os_error().is_some_and(|c| FALLBACK.contains(&c)) {
                return Err(FsError::io(format!("link {src} to {dst}"), e));
            }
            let tmp = format!("{dst}.tmp");
            let what = || format!("copy {src} to {tmp}");
            std::fs::copy(src, &tmp).map_err(|e| FsError::io(what(), e))?;
            File::open(&tmp)
                .and_then(|f| f.sync_all())
                .map_err(|e| FsError::io(what(), e))?;
            std::fs::rename(&tmp, dst)
                .map_err(|e| FsError::io(format!("rename {tmp} to {dst}"), e))?;
        }
        self.sync_dir(parent_of(dst))
    }

    fn file_size(&self, path: &str) -> FsResult<u64> {
        std::fs::metadata(path)
            .map(|m| m.len())
            .map_err(|e| FsError::io(format!("stat {path}"), e))
    }

    fn sync_dir(&self, path: &str) -> FsResult<()> {
        File::open(path)
            .and_then(|d| d.sync_all())
            .map_err(|e| FsError::io(format!("sync directory {path}"), e))
    }
}

// ---- PyFs -------------------------------------------------------------------------------

/// A Python object with the `FileSystem` protocol; every call attaches to the interpreter.
pub struct PyFs {
    obj: Py<PyAny>,
}

impl PyFs {
    pub fn new(obj: Py<PyAny>) -> Self {
        PyFs { obj }
    }
}

/// Calls `obj.name(*args)` with the interpreter attached and converts the result; a
/// raised exception is `FsError::Py`.
fn call_method<A, T>(
    obj: &Py<PyAny>,
    name: &str,
    args: A,
    convert: impl for<'py> FnOnce(Bound<'py, PyAny>) -> PyResult<T>,
) -> FsResult<T>
where
    A: for<'py> pyo3::call::PyCallArgs<'py>,
{
    Python::attach(|py| {
        obj.bind(py)
            .call_method1(name, args)
            .and_then(convert)
            .map_err(FsError::Py)
    })
}

fn to_vec(b: Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let b = b
        .cast_into::<PyBytes>()
        .map_err(|e| PyTypeError::new_err(format!("a file system read returned {e}")))?;
    Ok(b.as_bytes().to_vec())
}

struct PyHandle {
    obj: Py<PyAny>,
}

impl RandomAccess for PyHandle {
    fn pread(&self, n: usize, offset: u64) -> FsResult<Vec<u8>> {
        call_method(&self.obj, "pread", (n, offset), to_vec)
    }

    fn size(&self) -> FsResult<u64> {
        call_method(&self.obj, "size", (), |v| v.extract())
    }
}

impl Writable for PyHandle {
    fn write(&mut self, data: &[u8]) -> FsResult<()> {
        Python::attach(|py| {
            let b = PyBytes::new(py, data);
            self.obj
                .bind(py)
                .call_method1("write", (b,))
                .map(drop)
                .map_err(FsError::Py)
        })
    }

    fn sync(&mut self) -> FsResult<()> {
        call_method(&self.obj, "sync", (), |_| Ok(()))
    }

    fn tell(&self) -> u64 {
        // the protocol's tell cannot fail; a broken object reads as position 0 and its
        // next write reports the error
        call_method(&self.obj, "tell", (), |v| v.extract()).unwrap_or(0)
    }

    fn truncate(&mut self, size: u64) -> FsResult<()> {
        call_method(&self.obj, "truncate", (size,), |_| Ok(()))
    }

    fn close(&mut self) -> FsResult<()> {
        call_method(&self.obj, "close", (), |_| Ok(()))
    }
}

impl Fs for PyFs {
    fn open_read(&self, path: &str) -> FsResult<Box<dyn RandomAccess>> {
        let obj = call_method(&self.obj, "open_read", (path,), |v| Ok(v.unbind()))?;
        Ok(Box::new(PyHandle { obj }))
    }

    fn open_write(&self, path: &str, append: bool) -> FsResult<Box<dyn Writable>> {
        let obj = Python::attach(|py| {
            let kwargs = pyo3::types::PyDict::new(py);
            kwargs.set_item("append", append)?;
            self.obj
                .bind(py)
                .call_method("open_write", (path,), Some(&kwargs))
                .map(Bound::unbind)
        })
        .map_err(FsError::Py)?;
        Ok(Box::new(PyHandle { obj }))
    }

    fn read_all(&self, path: &str) -> FsResult<Vec<u8>> {
        call_method(&self.obj, "read_all", (path,), to_vec)
    }

    fn exists(&self, path: &str) -> FsResult<bool> {
        call_method(&self.obj, "exists", (path,), |v| v.is_truthy())
    }

    fn listdir(&self, path: &str) -> FsResult<Vec<String>> {
        call_method(&self.obj, "listdir", (path,), |v| v.extract())
    }

    fn makedirs(&self, path: &str) -> FsResult<()> {
        call_method(&self.obj, "makedirs", (path,), |_| Ok(()))
    }

    fn remove(&self, path: &str) -> FsResult<()> {
        call_method(&self.obj, "remove", (path,), |_| Ok(()))
    }

    fn rmtree(&self, path: &str) -> FsResult<()> {
        call_method(&self.obj, "rmtree", (path,), |_| Ok(()))
    }

    fn rename(&self, src: &str, dst: &str) -> FsResult<()> {
        call_method(&self.obj, "rename", (src, dst), |_| Ok(()))
    }

    fn link(&self, src: &str, dst: &str) -> FsResult<()> {
        call_method(&self.obj, "link", (src, dst), |_| Ok(()))
    }

    fn file_size(&self, path: &str) -> FsResult<u64> {
        call_method(&self.obj, "file_size", (path,), |v| v.extract())
    }

    fn sync_dir(&self, path: &str) -> FsResult<()> {
        call_method(&self.obj, "sync_dir", (path,), |_| Ok(()))
    }
}

/// A Python `RandomAccessFile`-like object (`pread(n, offset)`, `size()`) as a
/// `RandomAccess`; each call attaches to the interpreter.
pub fn random_access_from_python(obj: Py<PyAny>) -> Box<dyn RandomAccess> {
    Box::new(PyHandle { obj })
}

/// The `Fs` for a Python `fs` argument: `NativeFs` for `None` or a stock `LocalFS`
/// (exactly that class: a subclass may override a method), else a `PyFs` around it.
pub fn from_python(fs: &Bound<'_, PyAny>) -> PyResult<Arc<dyn Fs>> {
    if fs.is_none() {
        return Ok(Arc::new(NativeFs));
    }
    let local = fs.py().import("hedgerow.storage.fs")?.getattr("LocalFS")?;
    if fs.get_type().is(&local) {
        return Ok(Arc::new(NativeFs));
    }
    for method in ["open_read", "open_write", "read_all", "listdir", "rename"] {
        if !fs.hasattr(method)? {
            return Err(PyTypeError::new_err(format!(
                "fs must implement hedgerow.storage.fs.FileSystem (no {method}): {}",
                fs.get_type().name()?
            )));
        }
    }
    Ok(Arc::new(PyFs::new(fs.clone().unbind())))
}

// A crossing for tests: Python drives both implementations through the same calls and
// compares them with LocalFS (tests/unit/storage/test_core_fs.py).

/// Runs a list of file operations through the core's `Fs` for `fs` and returns each
/// result (or the exception it raised, as the value): `("write", path, bytes, append)`,
/// `("read", path, n, offset)`, `("read_all", path)`, `("listdir", path)`,
/// `("exists", path)`, `("size", path)`, `("remove", path)`, `("rmtree", path)`,
/// `("rename", a, b)`, `("link", a, b)`, `("makedirs", path)`, `("truncate_write", path,
/// bytes, size)` (write, truncate to size, write again, sync, return tell).
#[pyfunction]
pub fn _fs_script<'py>(
    py: Python<'py>,
    fs: &Bound<'py, PyAny>,
    ops: Vec<Bound<'py, pyo3::types::PyTuple>>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let imp = from_python(fs)?;
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        let name: String = op.get_item(0)?.extract()?;
        let s = |i: usize| -> PyResult<String> { op.get_item(i)?.extract() };
        let r: FsResult<Bound<'py, PyAny>> = match name.as_str() {
            "write" | "truncate_write" => {
                let data: Vec<u8> = op.get_item(2)?.extract()?;
                // write: (path, data, append); truncate_write: (path, data, size)
                let (append, cut) = if name == "write" {
                    (op.get_item(3)?.extract::<bool>()?, None)
                } else {
                    (false, Some(op.get_item(3)?.extract::<u64>()?))
                };
                let path = s(1)?;
                py.detach(|| {
                    let mut w = imp.open_write(&path, append)?;
                    w.write(&data)?;
                    if let Some(size) = cut {
                        w.truncate(size)?;
                        w.write(&data)?;
                    }
                    w.sync()?;
                    let pos = w.tell();
                    w.close()?;
                    Ok(pos)
                })
                .map(|pos| pos.into_pyobject(py).expect("u64").into_any())
            }
            "read" => {
                let n: usize = op.get_item(2)?.extract()?;
                let offset: u64 = op.get_item(3)?.extract()?;
                let path = s(1)?;
                py.detach(|| imp.open_read(&path)?.pread(n, offset))
                    .map(|v| PyBytes::new(py, &v).into_any())
            }
            "read_all" => {
                let path = s(1)?;
                py.detach(|| imp.read_all(&path))
                    .map(|v| PyBytes::new(py, &v).into_any())
            }
            "listdir" => {
                let path = s(1)?;
                py.detach(|| imp.listdir(&path))
                    .and_then(|v| v.into_pyobject(py).map_err(FsError::Py))
            }
            "exists" => {
                let path = s(1)?;
                py.detach(|| imp.exists(&path))
                    .map(|v| v.into_pyobject(py).expect("bool").to_owned().into_any())
            }
            "size" => {
                let path = s(1)?;
                py.detach(|| imp.file_size(&path))
                    .map(|v| v.into_pyobject(py).expect("u64").into_any())
            }
            "remove" | "rmtree" | "makedirs" => {
                let path = s(1)?;
                py.detach(|| match name.as_str() {
                    "remove" => imp.remove(&path),
                    "rmtree" => imp.rmtree(&path),
                    _ => imp.makedirs(&path),
                })
                .map(|()| py.None().into_bound(py))
            }
            "rename" | "link" => {
                let (a, b) = (s(1)?, s(2)?);
                py.detach(|| {
                    if name == "rename" {
                        imp.rename(&a, &b)
                    } else {
                        imp.link(&a, &b)
                    }
                })
                .map(|()| py.None().into_bound(py))
            }
            other => {
                return Err(PyOSError::new_err(format!(
                    "fs_script: unknown operation {other:?}"
                )))
            }
        };
        out.push(match r {
            Ok(v) => v,
            Err(e) => e.into_pyerr(py).into_value(py).into_bound(py).into_any(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(name: &str) -> String {
        let d = std::env::temp_dir().join(format!("hedgerow-fs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("tmp");
        d.to_str().expect("utf-8").to_owned()
    }

    #[test]
    fn native_round_trip_and_missing_paths() {
        let d = tmpdir("rt");
        let fs = NativeFs;
        let p = format!("{d}/a");
        let mut w = fs.open_write(&p, false).expect("create");
        w.write(b"hello world").expect("write");
        w.truncate(5).expect("truncate");
        w.write(b"!!").expect("write");
        w.sync().expect("sync");
        assert_eq!(w.tell(), 7);
        w.close().expect("close");
        assert!(w.write(b"x").is_err(), "a closed file refuses writes");
        assert_eq!(fs.read_all(&p).expect("read"), b"hello!!");
        let r = fs.open_read(&p).expect("open");
        assert_eq!(r.pread(3, 2).expect("pread"), b"llo");
        assert_eq!(r.pread(100, 5).expect("pread"), b"!!");
        assert_eq!(r.pread(10, 100).expect("pread"), b"");
        assert_eq!(r.size().expect("size"), 7);
        let mut a = fs.open_write(&p, true).expect("append");
        assert_eq!(a.tell(), 7);
        a.write(b"?").expect("write");
        assert_eq!(fs.file_size(&p).expect("size"), 8);
        fs.link(&p, &format!("{d}/b")).expect("link");
        fs.rename(&format!("{d}/b"), &format!("{d}/c"))
            .expect("rename");
        fs.makedirs(&format!("{d}/sub/deeper")).expect("mkdir");
        assert_eq!(fs.listdir(&d).expect("list"), vec!["a", "c", "sub"]);
        assert!(fs.listdir(&format!("{d}/nope")).expect("list").is_empty());
        fs.remove(&format!("{d}/nope"))
            .expect("remove of a missing file");
        fs.rmtree(&format!("{d}/nope"))
            .expect("rmtree of a missing dir");
        assert!(fs.exists(&format!("{d}/c")).expect("exists"));
        fs.rmtree(&d).expect("rmtree");
        assert!(!fs.exists(&d).expect("exists"));
    }

    #[test]
    fn native_errors_name_the_operation_and_path() {
        let fs = NativeFs;
        let e = fs.read_all("/nonexistent-hedgerow/x").expect_err("error");
        let text = e.to_string();
        assert!(text.starts_with("read /nonexistent-hedgerow/x:"), "{text}");
        assert!(fs.open_read("/nonexistent-hedgerow/x").is_err());
        assert!(fs.file_size("/nonexistent-hedgerow/x").is_err());
        assert!(fs.rename("/nonexistent-hedgerow/x", "/tmp/y").is_err());
    }

    #[test]
    fn parent_of_relative_and_absolute_paths() {
        assert_eq!(parent_of("a"), ".");
        assert_eq!(parent_of("d/a"), "d");
        assert_eq!(parent_of("/d/a"), "/d");
    }
}
