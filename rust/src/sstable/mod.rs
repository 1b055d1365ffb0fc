//! Store files ("sstables"): block encoding and decoding, bloom filters, block codecs,
//! and the block trailer and footer. The file-level writer and reader (I/O, the index
//! walk, the block cache) stay in `hedgerow.storage.sstable_writer` / `sstable_reader`,
//! which call into this module once per block.
//!
//! Format: docs/formats/sstable.md (authoritative; version 1, unchanged by the move to
//! Rust: the golden files in tests/golden/sstable pin the bytes).
//!
//! Every decoder here takes untrusted bytes and returns an error for anything malformed;
//! none of them panics or reads outside its input (unit tests, proptests and the fuzz
//! targets in rust/fuzz).

pub mod block;
pub mod bloom;
pub mod compression;
pub mod format;
pub mod py;
