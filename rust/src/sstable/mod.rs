//! Store files ("sstables"): block encoding and decoding, bloom filters, block codecs,
//! the block trailer and footer, the file writer (`writer`, through the core's `Fs`) and
//! the process's block cache (`cache`). The reader's index walk stays in
//! `hedgerow.storage.sstable_reader`, which calls into this module once per block.
//!
//! Format: docs/formats/sstable.md (authoritative; version 1, unchanged by the move to
//! Rust: the golden files in tests/golden/sstable pin the bytes).
//!
//! Every decoder here takes untrusted bytes and returns an error for anything malformed;
//! none of them panics or reads outside its input (unit tests, proptests and the fuzz
//! targets in rust/fuzz).

pub mod block;
pub mod bloom;
pub mod cache;
pub mod compression;
pub mod format;
pub mod py;
pub mod py_store;
pub mod reader;
pub mod writer;
