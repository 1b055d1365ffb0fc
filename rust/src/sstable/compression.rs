//! Block codecs: ids persisted in block trailers, compress and decompress.
//!
//! Format: docs/formats/sstable.md#field-grammar. Summary:
//!
//! ```text
//! codec 0 NONE : payload stored as is
//! codec 1 LZ4  : uncompressed_size:u32le lz4_block(payload)   (python-lz4's store_size=True)
//! codec 2 ZSTD : one zstd frame, level 3, content size in the frame header
//! ```
//!
//! Invariants: `decompress(c, compress(c, x)) == x`; a block whose compressed form saves
//! less than 1/8 of its size is stored with codec NONE (as leveldb does), so
//! incompressible blocks cost nothing on read. Decoding refuses a claimed size over
//! `MAX_PAYLOAD` or over what the codec can expand to, so corrupt input cannot make it
//! allocate gigabytes.
//! Implementations: lz4 compression is liblz4 1.9.4's streaming compressor through
//! `lz4-sys` (byte-identical to python-lz4, which bundles the same version and makes the
//! same calls; the only `unsafe` of the store-file code, with SAFETY arguments below);
//! lz4 decompression is `lz4_flex`'s safe decoder, so untrusted bytes never reach C code on that path; zstd is libzstd through the
//! `zstd` crate (same output as python-zstandard at level 3, checked by
//! tests/unit/storage/test_compression.py).
//! Concurrency: pure functions.

use std::borrow::Cow;

/// zstd's default level: a good ratio at about 300 MB/s.
pub const ZSTD_LEVEL: i32 = 3;
/// The largest block payload a decoder accepts (1 GiB; cells are capped at 10 MiB and a
/// block closes once it reaches the family's block size).
pub const MAX_PAYLOAD: usize = 1 << 30;
/// LZ4's best case: one 4-bit-plus-255-runs match token can expand to at most about 255
/// bytes per input byte (lz4 block format spec, "Maximum compression ratio").
const LZ4_MAX_RATIO: usize = 255;

/// Compression codec of one stored block. ON-DISK: never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Stored uncompressed.
    None = 0,
    /// lz4 block with a u32le uncompressed-size prefix.
    Lz4 = 1,
    /// One zstd frame, content size in the frame header.
    Zstd = 2,
}

impl Codec {
    /// The codec with on-disk id `id`, if any.
    pub fn from_id(id: u8) -> Option<Codec> {
        match id {
            0 => Some(Codec::None),
            1 => Some(Codec::Lz4),
            2 => Some(Codec::Zstd),
            _ => None,
        }
    }
}

fn compress_raw(codec: Codec, raw: &[u8]) -> Option<Vec<u8>> {
    match codec {
        Codec::None => None,
        Codec::Lz4 => {
            let n = u32::try_from(raw.len()).ok()?;
            let mut out = n.to_le_bytes().to_vec();
            out.extend_from_slice(&lz4_compress(raw)?);
            Some(out)
        }
        // compression of an in-memory slice only fails on allocation failure
        Codec::Zstd => zstd::bulk::compress(raw, ZSTD_LEVEL).ok(),
    }
}

/// liblz4's streaming compressor on a fresh stream (`LZ4_createStream` then
/// `LZ4_compress_continue`, acceleration 1): what python-lz4's `lz4.block.compress` does
/// (it resets a stream and calls `LZ4_compress_fast_continue`), so the bytes match files
/// python-lz4 wrote. `LZ4_compress_default` would not: for inputs under 64 KiB it uses
/// 16-bit hash-table entries and finds other matches. None when the input is over liblz4's
/// limit (`LZ4_MAX_INPUT_SIZE`, about 2 GiB) or liblz4 fails.
fn lz4_compress(raw: &[u8]) -> Option<Vec<u8>> {
    let src_len = std::os::raw::c_int::try_from(raw.len()).ok()?;
    // SAFETY: LZ4_compressBound is a pure arithmetic function of its argument.
    let bound = unsafe { lz4_sys::LZ4_compressBound(src_len) };
    let cap = usize::try_from(bound).ok().filter(|&b| b > 0)?;
    let mut out = vec![0u8; cap];
    // SAFETY: LZ4_createStream allocates and initialises a stream, or returns null (checked).
    let stream = unsafe { lz4_sys::LZ4_createStream() };
    if stream.is_null() {
        return None;
    }
    // SAFETY: `stream` is a valid, freshly initialised stream used by this call only.
    // `raw` is valid for reads of `src_len` bytes; `out` is valid for writes of `bound` =
    // LZ4_compressBound(src_len) bytes, which is the capacity LZ4_compress_continue assumes
    // (it passes exactly that bound as the output limit). The buffers do not overlap (`out`
    // is a fresh allocation). The stream keeps a pointer to `raw` as its dictionary, but
    // it is freed right below, before `raw`'s borrow ends, and never used again.
    let written = unsafe {
        let n = lz4_sys::LZ4_compress_continue(stream, raw.as_ptr(), out.as_mut_ptr(), src_len);
        lz4_sys::LZ4_freeStream(stream);
        n
    };
    let written = usize::try_from(written)
        .ok()
        .filter(|&w| w > 0 && w <= cap)?;
    out.truncate(written);
    Some(out)
}

/// Compress `raw` with `codec`; returns the codec actually used and the stored bytes
/// (`Codec::None` and `raw` itself when compressing saves less than 1/8).
pub fn compress(codec: Codec, raw: &[u8]) -> (Codec, Cow<'_, [u8]>) {
    match compress_raw(codec, raw) {
        Some(out) if out.len() < raw.len() - (raw.len() >> 3) => (codec, Cow::Owned(out)),
        _ => (Codec::None, Cow::Borrowed(raw)),
    }
}

/// Undo [`compress`]. The error says what is wrong ("lz4: ...", "zstd: ...",
/// "unknown compression codec N").
pub fn decompress(codec: u8, stored: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    match Codec::from_id(codec) {
        Some(Codec::None) => Ok(Cow::Borrowed(stored)),
        Some(Codec::Lz4) => decompress_lz4(stored).map(Cow::Owned),
        Some(Codec::Zstd) => decompress_zstd(stored).map(Cow::Owned),
        None => Err(format!("unknown compression codec {codec}")),
    }
}

fn decompress_lz4(stored: &[u8]) -> Result<Vec<u8>, String> {
    let (size, body) = match stored {
        [a, b, c, d, body @ ..] => (u32::from_le_bytes([*a, *b, *c, *d]) as usize, body),
        _ => return Err("lz4: input too short for its size prefix".to_owned()),
    };
    if size > MAX_PAYLOAD || size > body.len().saturating_mul(LZ4_MAX_RATIO) + 16 {
        return Err(format!(
            "lz4: claimed size {size} is impossible for {} compressed bytes",
            body.len()
        ));
    }
    let mut out = vec![0u8; size];
    let n = lz4_flex::block::decompress_into(body, &mut out).map_err(|e| format!("lz4: {e}"))?;
    if n != size {
        return Err(format!(
            "lz4: decompressed {n} bytes, the prefix says {size}"
        ));
    }
    Ok(out)
}

fn decompress_zstd(stored: &[u8]) -> Result<Vec<u8>, String> {
    let size = match zstd::zstd_safe::get_frame_content_size(stored) {
        Ok(Some(n)) => n,
        Ok(None) => return Err("zstd: frame header has no content size".to_owned()),
        Err(_) => return Err("zstd: not a zstd frame".to_owned()),
    };
    let size = usize::try_from(size)
        .ok()
        .filter(|&n| n <= MAX_PAYLOAD)
        .ok_or_else(|| format!("zstd: content size {size} is over the limit"))?;
    let out = zstd::bulk::decompress(stored, size).map_err(|e| format!("zstd: {e}"))?;
    if out.len() != size {
        return Err(format!(
            "zstd: decompressed {} bytes, the frame says {size}",
            out.len()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PY_LZ4_AB100: &str = "c80000002f61620200ae506261626162";

    fn sample() -> Vec<u8> {
        (0..5000u32).flat_map(|i| (i % 97).to_le_bytes()).collect()
    }

    #[test]
    fn round_trips_every_codec() {
        let raw = sample();
        for codec in [Codec::None, Codec::Lz4, Codec::Zstd] {
            let (used, stored) = compress(codec, &raw);
            assert_eq!(used, codec);
            assert_eq!(decompress(used as u8, &stored).unwrap().as_ref(), &raw[..]);
        }
    }

    #[test]
    fn incompressible_or_tiny_is_stored_raw() {
        assert_eq!(compress(Codec::Zstd, b"x").0, Codec::None);
        assert_eq!(compress(Codec::Lz4, b"").0, Codec::None);
    }

    #[test]
    fn lz4_output_matches_python_lz4() {
        // lz4.block.compress(b"ab" * 100, store_size=True) with python-lz4 4.x (liblz4 1.9.4)
        let raw = b"ab".repeat(100);
        let (_, stored) = compress(Codec::Lz4, &raw);
        let hex: String = stored.iter().map(|c| format!("{c:02x}")).collect();
        assert_eq!(hex, PY_LZ4_AB100);
    }

    #[test]
    fn lz4_layout_is_size_prefix_then_block() {
        let raw = vec![7u8; 1000];
        let (_, stored) = compress(Codec::Lz4, &raw);
        assert_eq!(&stored[..4], &1000u32.to_le_bytes());
    }

    #[test]
    fn unknown_codec_and_absurd_sizes_are_errors() {
        assert!(decompress(9, b"abc")
            .unwrap_err()
            .contains("unknown compression codec 9"));
        assert!(decompress(1, &[0xff, 0xff, 0xff, 0xff, 0]).is_err());
        assert!(decompress(1, b"ab").is_err());
        assert!(decompress(2, b"not zstd").is_err());
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error_or_a_value() {
        let raw = sample();
        for codec in [Codec::Lz4, Codec::Zstd] {
            let (_, stored) = compress(codec, &raw);
            for cut in 0..stored.len() {
                let _ = decompress(codec as u8, &stored[..cut]);
            }
            for i in 0..stored.len().min(400) {
                for bit in 0..8 {
                    let mut bad = stored.to_vec();
                    bad[i] ^= 1 << bit;
                    let _ = decompress(codec as u8, &bad);
                }
            }
        }
    }

    proptest! {
        #[test]
        fn round_trip(raw in proptest::collection::vec(0u8..4, 0..3000), codec in 0u8..3) {
            let (used, stored) = compress(Codec::from_id(codec).unwrap(), &raw);
            let back = decompress(used as u8, &stored).unwrap();
            prop_assert_eq!(back.as_ref(), &raw[..]);
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300), codec in 0u8..4) {
            let _ = decompress(codec, &data);
        }
    }
}
