//! The store-file writer: data blocks, the multi-level index, the bloom block, the meta
//! block and the footer, written through the core's `Writable` (RFC 0002 phase 2).
//!
//! Format: docs/formats/sstable.md (authoritative; version 1). The bytes are exactly
//! those the Python writer produced (tests/golden/sstable pins them): a data block is
//! closed when its encoded size reaches `block_size`; index levels are added bottom-up
//! until the root fits one block, each upper-level block keeping >= 2 entries; blocks are
//! coalesced into ~1 MiB writes.
//! Call order: `add*  finish_blocks  finish(meta_payload)  sync_close`, or `abandon` (by
//! the owner) at any point. The meta block's msgpack payload is made by the Python wrapper
//! (`hedgerow.storage.sstable_writer`), which owns the file's property map and its
//! caller-supplied `extra` values.
//! Invariants: keys strictly increasing (checked on every `add`: one comparison).
//! Concurrency: one owner; the pyclass wraps it in a mutex.

use super::block::{self, EMPTY_SIZE, ENTRY_OVERHEAD, HANDLE_SIZE};
use super::bloom::{BloomBuilder, BloomType, DEFAULT_BITS_PER_ITEM, DEFAULT_NUM_PROBES};
use super::compression::Codec;
use super::format::{self, BlockType, Footer};
use crate::fs::{FsError, Writable};

/// Blocks are coalesced into writes of about this many bytes.
pub const WRITE_BUFFER_BYTES: usize = 1 << 20;
/// Bytes of the fixed (ts, type, seq) suffix of an internal key (model/keys.py).
pub const KEY_SUFFIX_LEN: usize = 17;
/// The Put key type (model/cell.py KeyType); every other type is a delete marker.
const TYPE_PUT: u8 = 4;

/// Why an `add` or a finishing step failed.
#[derive(Debug)]
pub enum WriteError {
    /// The caller broke the contract (order, sizes): a message naming the problem.
    Invalid(String),
    /// The file system failed.
    Fs(FsError),
}

impl From<FsError> for WriteError {
    fn from(e: FsError) -> Self {
        WriteError::Fs(e)
    }
}

/// What the finished blocks say about the file (the meta block's computed properties).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileStats {
    pub entries: u64,
    pub first_key: Vec<u8>,
    pub last_key: Vec<u8>,
    pub min_seq: u64,
    pub max_seq: u64,
    pub min_ts: u64,
    pub max_ts: u64,
    pub delete_markers: u64,
    pub data_blocks: u64,
    pub index_depth: u8,
    pub raw_key_bytes: u64,
    pub raw_value_bytes: u64,
}

/// Builds one store file; see the module comment for the call order.
pub struct StoreWriter {
    path: String,
    file: Box<dyn Writable>,
    block_size: usize,
    codec: Codec,
    // current data block
    keys: Vec<Vec<u8>>,
    values: Vec<Vec<u8>>,
    block_bytes: usize,
    // whole file
    bloom: Option<BloomBuilder>,
    index_keys: Vec<Vec<u8>>,
    index_handles: Vec<Vec<u8>>,
    out: Vec<u8>,
    offset: u64,
    entries: u64,
    first_key: Vec<u8>,
    last_key: Vec<u8>,
    raw_key_bytes: u64,
    raw_value_bytes: u64,
    min_inv_ts: u64,
    max_inv_ts: Option<u64>,
    min_inv_seq: u64,
    max_inv_seq: Option<u64>,
    delete_markers: u64,
    index: Option<((u64, u32), u8)>,
    bloom_handle: (u64, u32),
}

fn suffix(key: &[u8]) -> (u64, u8, u64) {
    // callers check len >= KEY_SUFFIX_LEN
    let s = &key[key.len() - KEY_SUFFIX_LEN..];
    let mut ts = [0u8; 8];
    let mut seq = [0u8; 8];
    ts.copy_from_slice(&s[..8]);
    seq.copy_from_slice(&s[9..]);
    (u64::from_be_bytes(ts), s[8], u64::from_be_bytes(seq))
}

impl StoreWriter {
    /// A writer appending to `file` (freshly created, empty). Errors on a zero block size.
    pub fn new(
        path: &str,
        file: Box<dyn Writable>,
        block_size: usize,
        codec: Codec,
        bloom_type: BloomType,
    ) -> Result<StoreWriter, String> {
        if block_size == 0 {
            return Err("block_size_bytes must be positive, got 0".to_owned());
        }
        let bloom = if bloom_type == BloomType::None {
            None
        } else {
            Some(BloomBuilder::new(
                bloom_type,
                DEFAULT_BITS_PER_ITEM,
                DEFAULT_NUM_PROBES,
            )?)
        };
        Ok(StoreWriter {
            path: path.to_owned(),
            file,
            block_size,
            codec,
            keys: Vec::new(),
            values: Vec::new(),
            block_bytes: EMPTY_SIZE,
            bloom,
            index_keys: Vec::new(),
            index_handles: Vec::new(),
            out: Vec::new(),
            offset: 0,
            entries: 0,
            first_key: Vec::new(),
            last_key: Vec::new(),
            raw_key_bytes: 0,
            raw_value_bytes: 0,
            min_inv_ts: u64::MAX,
            max_inv_ts: None,
            min_inv_seq: u64::MAX,
            max_inv_seq: None,
            delete_markers: 0,
            index: None,
            bloom_handle: (0, 0),
        })
    }

    /// Entries added so far.
    pub fn entries(&self) -> u64 {
        self.entries + self.keys.len() as u64
    }

    /// Append one entry; encodes and buffers a block every ~block_size bytes.
    pub fn add(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<(), WriteError> {
        if self.index.is_some() {
            return Err(WriteError::Invalid(format!(
                "store file writer for {} is finished",
                self.path
            )));
        }
        if key.len() < KEY_SUFFIX_LEN + 4 {
            return Err(WriteError::Invalid(format!(
                "not an internal key in {}: {key:?}",
                self.path
            )));
        }
        let last = self.keys.last().unwrap_or(&self.last_key);
        if self.entries() > 0 && key.as_slice() <= last.as_slice() {
            return Err(WriteError::Invalid(format!(
                "keys out of order in {}: {key:?} after {last:?}",
                self.path
            )));
        }
        self.block_bytes += key.len() + value.len() + ENTRY_OVERHEAD;
        self.keys.push(key);
        self.values.push(value);
        if self.block_bytes >= self.block_size {
            self.flush_data_block()?;
        }
        Ok(())
    }

    fn flush_data_block(&mut self) -> Result<(), WriteError> {
        if self.keys.is_empty() {
            return Ok(());
        }
        let keys = std::mem::take(&mut self.keys);
        let values = std::mem::take(&mut self.values);
        for k in &keys {
            let (ts, ty, seq) = suffix(k);
            self.min_inv_ts = self.min_inv_ts.min(ts);
            self.max_inv_ts = Some(self.max_inv_ts.map_or(ts, |m| m.max(ts)));
            self.min_inv_seq = self.min_inv_seq.min(seq);
            self.max_inv_seq = Some(self.max_inv_seq.map_or(seq, |m| m.max(seq)));
            if ty != 255 - TYPE_PUT {
                self.delete_markers += 1;
            }
            self.raw_key_bytes += k.len() as u64;
            if let Some(b) = self.bloom.as_mut() {
                b.add_key(k);
            }
        }
        self.raw_value_bytes += values.iter().map(|v| v.len() as u64).sum::<u64>();
        if self.entries == 0 {
            self.first_key = keys[0].clone();
        }
        self.entries += keys.len() as u64;
        let handle = self.write_entries(&keys, &values, BlockType::Data)?;
        let last = keys.into_iter().next_back().unwrap_or_default();
        self.last_key = last.clone();
        self.index_keys.push(last);
        self.index_handles
            .push(block::encode_handle(handle.0, handle.1).to_vec());
        self.block_bytes = EMPTY_SIZE;
        Ok(())
    }

    fn write_entries<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        keys: &[K],
        values: &[V],
        block_type: BlockType,
    ) -> Result<(u64, u32), WriteError> {
        let payload = block::encode(keys, values).map_err(WriteError::Invalid)?;
        self.write_block(&payload, block_type)
    }

    /// Compress, checksum and buffer one block; its handle.
    fn write_block(
        &mut self,
        payload: &[u8],
        block_type: BlockType,
    ) -> Result<(u64, u32), WriteError> {
        let (sealed, size) = format::seal(payload, block_type, self.codec);
        let size = u32::try_from(size).map_err(|_| {
            WriteError::Invalid(format!(
                "a {} block of {size} stored bytes exceeds 4 GiB",
                block_type.name()
            ))
        })?;
        let offset = self.offset;
        self.offset += sealed.len() as u64;
        if self.out.is_empty() && sealed.len() >= WRITE_BUFFER_BYTES {
            self.file.write(&sealed)?;
        } else {
            self.out.extend_from_slice(&sealed);
            if self.out.len() >= WRITE_BUFFER_BYTES {
                self.drain()?;
            }
        }
        Ok((offset, size))
    }

    fn drain(&mut self) -> Result<(), WriteError> {
        if !self.out.is_empty() {
            self.file.write(&self.out)?;
            self.out.clear();
        }
        Ok(())
    }

    /// Write the index levels bottom-up; (root handle, depth).
    fn write_index(&mut self) -> Result<((u64, u32), u8), WriteError> {
        let mut keys = std::mem::take(&mut self.index_keys);
        let mut handles = std::mem::take(&mut self.index_handles);
        let mut depth: u8 = 1;
        let per_entry = ENTRY_OVERHEAD + HANDLE_SIZE;
        let bs = self.block_size;
        while keys.len() > 1
            && EMPTY_SIZE + keys.iter().map(Vec::len).sum::<usize>() + per_entry * keys.len() > bs
        {
            let mut upper_keys = Vec::new();
            let mut upper_handles = Vec::new();
            let mut start = 0;
            let mut size = EMPTY_SIZE;
            for i in 0..keys.len() {
                size += keys[i].len() + per_entry;
                // close a block when full, but keep >= 2 entries per block so levels shrink
                if (size >= bs && i > start) || i == keys.len() - 1 {
                    let h = self.write_entries(
                        &keys[start..=i],
                        &handles[start..=i],
                        BlockType::Index,
                    )?;
                    upper_keys.push(keys[i].clone());
                    upper_handles.push(block::encode_handle(h.0, h.1).to_vec());
                    start = i + 1;
                    size = EMPTY_SIZE;
                }
            }
            keys = upper_keys;
            handles = upper_handles;
            depth = depth
                .checked_add(1)
                .ok_or_else(|| WriteError::Invalid("index deeper than 255 levels".to_owned()))?;
        }
        let root = self.write_entries(&keys, &handles, BlockType::Index)?;
        Ok((root, depth))
    }

    /// Write the last data block, the index and the bloom block; the file's statistics.
    pub fn finish_blocks(&mut self) -> Result<FileStats, WriteError> {
        if self.index.is_some() {
            return Err(WriteError::Invalid(format!(
                "store file writer for {} is already finished",
                self.path
            )));
        }
        self.flush_data_block()?;
        let data_blocks = self.index_keys.len() as u64;
        let (root, depth) = self.write_index()?;
        self.index = Some((root, depth));
        if let Some(b) = self.bloom.take() {
            self.bloom_handle = self.write_block(&b.finish(), BlockType::Bloom)?;
        }
        let empty = self.entries == 0;
        let inv = |x: Option<u64>| if empty { 0 } else { u64::MAX - x.unwrap_or(0) };
        let inv_min = |x: u64| if empty { 0 } else { u64::MAX - x };
        Ok(FileStats {
            entries: self.entries,
            first_key: self.first_key.clone(),
            last_key: self.last_key.clone(),
            min_seq: inv(self.max_inv_seq),
            max_seq: inv_min(self.min_inv_seq),
            min_ts: inv(self.max_inv_ts),
            max_ts: inv_min(self.min_inv_ts),
            delete_markers: self.delete_markers,
            data_blocks,
            index_depth: depth,
            raw_key_bytes: self.raw_key_bytes,
            raw_value_bytes: self.raw_value_bytes,
        })
    }

    /// Write the meta block and the footer and flush every buffered byte (no sync);
    /// the file's size.
    pub fn finish(&mut self, meta_payload: &[u8]) -> Result<u64, WriteError> {
        let (index, depth) = self
            .index
            .ok_or_else(|| WriteError::Invalid("finish before finish_blocks".to_owned()))?;
        let meta = self.write_block(meta_payload, BlockType::Meta)?;
        let footer = format::encode_footer(&Footer {
            meta,
            index,
            bloom: self.bloom_handle,
            index_depth: depth,
            version: format::FORMAT_VERSION,
        });
        self.out.extend_from_slice(&footer);
        self.offset += footer.len() as u64;
        self.drain()?;
        Ok(self.offset)
    }

    /// fdatasync and close.
    pub fn sync_close(&mut self) -> Result<(), WriteError> {
        self.file.sync()?;
        self.file.close()?;
        Ok(())
    }

    /// Close without syncing (the owner removes the partial file).
    pub fn close(&mut self) -> Result<(), WriteError> {
        self.file.close()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{Fs, NativeFs};
    use crate::sstable::block::Block;

    fn key(row: &[u8], ts: u64, ty: u8, seq: u64) -> Vec<u8> {
        // row_len:u16be row qualifier... is not needed here: any >= 21-byte key with the
        // inverted suffix will do for the writer
        let mut k = row.to_vec();
        k.extend_from_slice(&[0, 0, 0, 0]);
        k.extend_from_slice(&(u64::MAX - ts).to_be_bytes());
        k.push(255 - ty);
        k.extend_from_slice(&(u64::MAX - seq).to_be_bytes());
        k
    }

    fn tmp(name: &str) -> String {
        let d = std::env::temp_dir().join(format!("hedgerow-w-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("tmp");
        d.join("f.sst").to_str().expect("utf-8").to_owned()
    }

    fn write(path: &str, n: usize, block_size: usize) -> (FileStats, u64) {
        let f = NativeFs.open_write(path, false).expect("create");
        let mut w = StoreWriter::new(path, f, block_size, Codec::None, BloomType::Row).expect("w");
        for i in 0..n {
            let row = format!("row{i:06}");
            let ty = if i % 10 == 0 { 8 } else { TYPE_PUT };
            w.add(
                key(row.as_bytes(), 100 + i as u64, ty, i as u64 + 1),
                vec![b'v'; 20],
            )
            .expect("add");
        }
        let stats = w.finish_blocks().expect("blocks");
        let size = w.finish(b"\x80").expect("finish");
        w.sync_close().expect("sync");
        (stats, size)
    }

    #[test]
    fn stats_footer_and_multi_level_index() {
        let path = tmp("multi");
        let (s, size) = write(&path, 500, 128);
        assert_eq!(s.entries, 500);
        assert_eq!((s.min_seq, s.max_seq), (1, 500));
        assert_eq!((s.min_ts, s.max_ts), (100, 599));
        assert_eq!(s.delete_markers, 50);
        assert!(s.index_depth >= 3, "depth {}", s.index_depth);
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(bytes.len() as u64, size);
        let f = format::parse_footer(&bytes[bytes.len() - 56..], size).expect("footer");
        assert_eq!(f.index_depth, s.index_depth);
        let (off, sz) = f.index;
        let raw = &bytes[off as usize..off as usize + sz as usize + format::TRAILER_SIZE];
        let root = Block::decode(
            format::open(raw, BlockType::Index)
                .expect("open")
                .into_owned(),
        )
        .expect("root");
        assert_eq!(root.key(root.len() - 1), Some(s.last_key.as_slice()));
    }

    #[test]
    fn out_of_order_and_short_keys_are_refused() {
        let path = tmp("order");
        let f = NativeFs.open_write(&path, false).expect("create");
        let mut w = StoreWriter::new(&path, f, 4096, Codec::Lz4, BloomType::None).expect("w");
        w.add(key(b"b", 1, 4, 1), Vec::new()).expect("add");
        for bad in [key(b"a", 1, 4, 1), key(b"b", 1, 4, 1), b"short".to_vec()] {
            match w.add(bad, Vec::new()) {
                Err(WriteError::Invalid(_)) => {}
                other => panic!("expected Invalid, got {other:?}"),
            }
        }
        assert_eq!(w.entries(), 1);
        assert!(StoreWriter::new(
            &path,
            NativeFs.open_write(&path, false).expect("f"),
            0,
            Codec::None,
            BloomType::None
        )
        .is_err());
    }

    #[test]
    fn empty_file_has_zero_bounds() {
        let path = tmp("empty");
        let (s, size) = write(&path, 0, 4096);
        assert_eq!(
            s,
            FileStats {
                index_depth: 1,
                ..FileStats::default()
            }
        );
        assert!(size > 56);
    }
}
