//! Block trailers and the footer: sealing a block for the file, and verifying one read back.
//!
//! Format: docs/formats/sstable.md#field-grammar (authoritative). Summary:
//!
//! ```text
//! block   := stored:byte[size] block_type:u8 codec:u8 crc:u32le
//! crc     := crc32c(stored || block_type || codec)
//! footer  := meta:handle root_index:handle bloom:handle index_depth:u8 pad:3
//!            version:u32le footer_crc:u32le magic:byte[8]          (56 bytes)
//! handle  := offset:u64le size:u32le
//! ```
//!
//! Error messages are the ones the Python reader produced, word for word (tests match on
//! them); the caller adds the path and the offset.

use std::borrow::Cow;

use super::compression::{self, Codec};

/// block_type + codec + crc32c after every stored block.
pub const TRAILER_SIZE: usize = 6;
/// The fixed footer at the end of every store file.
pub const FOOTER_SIZE: usize = 56;
/// The footer crc covers footer bytes `[0, FOOTER_CRC_COVERS)`.
pub const FOOTER_CRC_COVERS: usize = 44;
/// The first 8 bytes of sha256(b"hedgerow-sstable"), stored verbatim.
pub const MAGIC: [u8; 8] = [0x93, 0x00, 0x19, 0xe0, 0xd1, 0x59, 0x97, 0x11];
/// The one format version this code writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// What a block holds. ON-DISK: never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockType {
    /// Sorted (internal key, value) entries.
    Data = 1,
    /// Sorted (separator, child handle) entries.
    Index = 2,
    /// The file's bloom filter.
    Bloom = 3,
    /// msgpack map of file properties.
    Meta = 4,
}

impl BlockType {
    /// The type with on-disk id `id`, if any.
    pub fn from_id(id: u8) -> Option<BlockType> {
        match id {
            1 => Some(BlockType::Data),
            2 => Some(BlockType::Index),
            3 => Some(BlockType::Bloom),
            4 => Some(BlockType::Meta),
            _ => None,
        }
    }

    /// The Python enum member's name (DATA, INDEX, ...), used in messages.
    pub fn name(self) -> &'static str {
        match self {
            BlockType::Data => "DATA",
            BlockType::Index => "INDEX",
            BlockType::Bloom => "BLOOM",
            BlockType::Meta => "META",
        }
    }
}

/// Compress `payload`, append the trailer; returns the bytes to write and the handle size
/// (the stored part, trailer excluded).
pub fn seal(payload: &[u8], block_type: BlockType, codec: Codec) -> (Vec<u8>, usize) {
    let (used, stored) = compression::compress(codec, payload);
    let size = stored.len();
    let mut out = Vec::with_capacity(size + TRAILER_SIZE);
    out.extend_from_slice(&stored);
    out.push(block_type as u8);
    out.push(used as u8);
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    (out, size)
}

/// Verify a block read back (stored bytes + trailer) and return its payload,
/// decompressed. Checks, in order: length, crc, block type, codec.
pub fn open<'a>(raw: &'a [u8], expected: BlockType) -> Result<Cow<'a, [u8]>, String> {
    let size = raw
        .len()
        .checked_sub(TRAILER_SIZE)
        .ok_or_else(|| format!("block of {} bytes is shorter than its trailer", raw.len()))?;
    let t = &raw[size..];
    let (block_type, codec) = (t[0], t[1]);
    let stored_crc = u32::from_le_bytes([t[2], t[3], t[4], t[5]]);
    let actual = crc32c::crc32c(&raw[..size + 2]);
    if actual != stored_crc {
        return Err(format!(
            "block checksum mismatch (stored {stored_crc:#010x}, computed {actual:#010x})"
        ));
    }
    if block_type != expected as u8 {
        return Err(format!(
            "expected a {} block, found block type {block_type}",
            expected.name()
        ));
    }
    compression::decompress(codec, &raw[..size])
        .map_err(|e| format!("cannot decompress block: {e}"))
}

/// A block's place in the file.
pub type Handle = (u64, u32);

/// The decoded footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footer {
    /// Meta block.
    pub meta: Handle,
    /// Root index block.
    pub index: Handle,
    /// Bloom block, `(0, 0)` when absent.
    pub bloom: Handle,
    /// Index levels, >= 1.
    pub index_depth: u8,
    /// Format version.
    pub version: u32,
}

/// Why a footer was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FooterError {
    /// Not a (valid) store file; message and file offset.
    Corrupt(String, u64),
    /// A store file of a version this build does not read; message and file offset.
    Version(String, u64),
}

/// Encode a footer (the crc is computed here).
pub fn encode_footer(f: &Footer) -> [u8; FOOTER_SIZE] {
    let mut out = [0u8; FOOTER_SIZE];
    for (i, (off, size)) in [f.meta, f.index, f.bloom].into_iter().enumerate() {
        out[12 * i..12 * i + 8].copy_from_slice(&off.to_le_bytes());
        out[12 * i + 8..12 * i + 12].copy_from_slice(&size.to_le_bytes());
    }
    out[36] = f.index_depth;
    out[40..44].copy_from_slice(&f.version.to_le_bytes());
    let crc = crc32c::crc32c(&out[..FOOTER_CRC_COVERS]);
    out[44..48].copy_from_slice(&crc.to_le_bytes());
    out[48..].copy_from_slice(&MAGIC);
    out
}

fn handle_at(raw: &[u8; FOOTER_SIZE], i: usize) -> Handle {
    let mut off = [0u8; 8];
    off.copy_from_slice(&raw[12 * i..12 * i + 8]);
    let mut size = [0u8; 4];
    size.copy_from_slice(&raw[12 * i + 8..12 * i + 12]);
    (u64::from_le_bytes(off), u32::from_le_bytes(size))
}

/// Decode and validate the footer of a file of `file_size` bytes whose last 56 bytes are
/// `raw`. Checks, in order: length, magic, version, crc, handles inside the data, depth.
pub fn parse_footer(raw: &[u8], file_size: u64) -> Result<Footer, FooterError> {
    let footer_at = file_size.saturating_sub(FOOTER_SIZE as u64);
    let raw: &[u8; FOOTER_SIZE] = match raw.try_into() {
        Ok(r) if file_size >= FOOTER_SIZE as u64 => r,
        _ if file_size < FOOTER_SIZE as u64 => {
            return Err(FooterError::Corrupt(
                format!(
                    "store file is {file_size} bytes, shorter than its {FOOTER_SIZE}-byte footer (truncated?)"
                ),
                0,
            ))
        }
        _ => return Err(FooterError::Corrupt("short read of footer".to_owned(), footer_at)),
    };
    let magic = &raw[48..];
    if magic != MAGIC {
        let hex = |b: &[u8]| b.iter().map(|c| format!("{c:02x}")).collect::<String>();
        return Err(FooterError::Corrupt(
            format!(
                "bad magic {} (expected {}): not a store file, or truncated",
                hex(magic),
                hex(&MAGIC)
            ),
            file_size - 8,
        ));
    }
    let version = u32::from_le_bytes([raw[40], raw[41], raw[42], raw[43]]);
    if version != FORMAT_VERSION {
        return Err(FooterError::Version(
            format!(
                "store file format version {version} is not supported (this build reads version {FORMAT_VERSION})"
            ),
            file_size - 16,
        ));
    }
    let stored = u32::from_le_bytes([raw[44], raw[45], raw[46], raw[47]]);
    let actual = crc32c::crc32c(&raw[..FOOTER_CRC_COVERS]);
    if actual != stored {
        return Err(FooterError::Corrupt(
            format!("footer checksum mismatch (stored {stored:#010x}, computed {actual:#010x})"),
            footer_at,
        ));
    }
    let f = Footer {
        meta: handle_at(raw, 0),
        index: handle_at(raw, 1),
        bloom: handle_at(raw, 2),
        index_depth: raw[36],
        version,
    };
    for (name, (off, size)) in [("meta", f.meta), ("index", f.index), ("bloom", f.bloom)] {
        let end = off
            .checked_add(u64::from(size))
            .and_then(|e| e.checked_add(TRAILER_SIZE as u64));
        if (off, size) != (0, 0) && end.is_none_or(|e| e > footer_at) {
            return Err(FooterError::Corrupt(
                format!("{name} block handle ({off}, {size}) points past the data"),
                footer_at,
            ));
        }
    }
    if f.index_depth < 1 {
        return Err(FooterError::Corrupt(
            format!("index depth {} < 1", f.index_depth),
            footer_at,
        ));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOLDEN_FOOTER: &str = "1d01000000000000 52010000 c700000000000000 3a000000 \
        0701000000000000 10000000 01000000 01000000 5a90756f 930019e0d1599711";

    fn unhex(s: &str) -> Vec<u8> {
        let s: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
        s.chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    fn golden() -> Footer {
        Footer {
            meta: (285, 338),
            index: (199, 58),
            bloom: (263, 16),
            index_depth: 1,
            version: 1,
        }
    }

    #[test]
    fn encodes_and_parses_the_golden_footer() {
        // the worked example's footer in docs/formats/sstable.md
        let raw = unhex(GOLDEN_FOOTER);
        let enc = encode_footer(&golden());
        assert_eq!(enc[..], raw[..]);
        assert_eq!(parse_footer(&enc, 685).unwrap(), golden());
    }

    #[test]
    fn footer_errors_in_order() {
        let good = encode_footer(&golden());
        assert!(
            matches!(parse_footer(&good, 10), Err(FooterError::Corrupt(m, 0)) if m.contains("shorter"))
        );
        let mut bad = good;
        bad[55] ^= 1;
        assert!(
            matches!(parse_footer(&bad, 685), Err(FooterError::Corrupt(m, 677)) if m.contains("bad magic"))
        );
        let v2 = encode_footer(&Footer {
            version: 2,
            ..golden()
        });
        assert!(matches!(
            parse_footer(&v2, 685),
            Err(FooterError::Version(_, 669))
        ));
        let mut bad = good;
        bad[0] ^= 1;
        assert!(
            matches!(parse_footer(&bad, 685), Err(FooterError::Corrupt(m, 629)) if m.contains("checksum"))
        );
        let far = encode_footer(&Footer {
            meta: (u64::MAX, 5),
            ..golden()
        });
        assert!(
            matches!(parse_footer(&far, 685), Err(FooterError::Corrupt(m, _)) if m.contains("points past"))
        );
        let d0 = encode_footer(&Footer {
            index_depth: 0,
            ..golden()
        });
        assert!(
            matches!(parse_footer(&d0, 685), Err(FooterError::Corrupt(m, _)) if m.contains("depth"))
        );
        for cut in 0..FOOTER_SIZE {
            assert!(parse_footer(&good[..cut], 685).is_err());
        }
        for i in 0..FOOTER_SIZE {
            for bit in 0..8 {
                let mut bad = good;
                bad[i] ^= 1 << bit;
                let _ = parse_footer(&bad, 685);
            }
        }
    }

    #[test]
    fn seal_and_open_round_trip_and_reject_damage() {
        let payload: Vec<u8> = (0..2000u32).map(|i| (i % 13) as u8).collect();
        for codec in [Codec::None, Codec::Lz4, Codec::Zstd] {
            let (raw, size) = seal(&payload, BlockType::Data, codec);
            assert_eq!(raw.len(), size + TRAILER_SIZE);
            assert_eq!(open(&raw, BlockType::Data).unwrap().as_ref(), &payload[..]);
            assert!(open(&raw, BlockType::Index)
                .unwrap_err()
                .contains("expected a INDEX block"));
            for cut in 0..raw.len() {
                assert!(open(&raw[..cut], BlockType::Data).is_err());
            }
            for i in 0..raw.len() {
                let mut bad = raw.clone();
                bad[i] ^= 0x10;
                assert!(open(&bad, BlockType::Data).is_err(), "flip at {i}");
            }
        }
    }

    #[test]
    fn the_crc_covers_type_and_codec() {
        // golden data block trailer: type DATA, codec NONE, crc 64f87ef6 over 193 bytes
        let (raw, _) = seal(b"abc", BlockType::Meta, Codec::None);
        let mut crc_input = b"abc".to_vec();
        crc_input.extend_from_slice(&[4, 0]);
        assert_eq!(raw[5..], crc32c::crc32c(&crc_input).to_le_bytes());
    }
}
