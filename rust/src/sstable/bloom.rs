//! Per-file bloom filter over rows or row+column: builder (writer side) and filter.
//!
//! Format: docs/formats/sstable.md#field-grammar (authoritative). Summary:
//!
//! ```text
//! bloom   := bloom_type:u8 k:u8 hash_fn:u8 pad:u8 num_items:u32le bits:bytes
//! item    := keys.row_prefix(row) (ROW) | keys.column_prefix(row, qualifier) (ROWCOL)
//! hash_fn 1: h = xxh3_64(item); a = h mod 2^32; b = h >> 32
//!            probe i sets bit (a + i*b) mod m, i = 0..k-1, m = 8*len(bits)
//! bit p   := bits[p >> 3] >> (p & 7) & 1
//! ```
//!
//! Same bit layout and hash as the Python module it replaced, so old files read the same.
//! Invariants: no false negatives; ~0.8% false positives at 10 bits per item with k = 7.
//! Consecutive equal items are added once (the keys arrive sorted).
//! Concurrency: a `BloomBuilder` is used by one writer; a `BloomFilter` is immutable.

use crate::keys::{escape_into, SUFFIX_LEN, TERM};
use xxhash_rust::xxh3::xxh3_64;

/// Size of the bloom block header.
pub const HEADER_SIZE: usize = 8;
/// hash_fn id of the only scheme so far (ON-DISK: never renumber).
pub const HASH_XXH3_DOUBLE: u8 = 1;
/// 10 bits per item with 7 probes: (1 - e^-0.7)^7 = 0.82% false positives.
pub const DEFAULT_BITS_PER_ITEM: usize = 10;
/// Probes per item.
pub const DEFAULT_NUM_PROBES: u8 = 7;

/// What the filter was built over. ON-DISK: never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BloomType {
    /// No filter.
    None = 0,
    /// Rows.
    Row = 1,
    /// Row + column.
    RowCol = 2,
}

impl BloomType {
    /// The type with on-disk id `id`, if any.
    pub fn from_id(id: u8) -> Option<BloomType> {
        match id {
            0 => Some(BloomType::None),
            1 => Some(BloomType::Row),
            2 => Some(BloomType::RowCol),
            _ => None,
        }
    }
}

/// The bloom item of one internal key (None for `BloomType::None`). Mirrors what the
/// Python writer did: for ROW, everything up to and including the first TERM (if there is
/// none, the first byte); for ROWCOL, everything but the 17-byte suffix.
pub fn item_of_key(bloom_type: BloomType, key: &[u8]) -> Option<&[u8]> {
    match bloom_type {
        BloomType::None => None,
        BloomType::Row => {
            let end = key
                .windows(2)
                .position(|w| w == TERM)
                .map_or(1, |i| i + 2)
                .min(key.len());
            Some(&key[..end])
        }
        BloomType::RowCol => Some(&key[..key.len().saturating_sub(SUFFIX_LEN)]),
    }
}

/// `keys.row_prefix(row)`: the ROW item.
pub fn row_item(row: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(row.len() + 2);
    escape_into(&mut out, row);
    out.extend_from_slice(&TERM);
    out
}

/// `keys.column_prefix(row, qualifier)`: the ROWCOL item.
pub fn rowcol_item(row: &[u8], qualifier: &[u8]) -> Vec<u8> {
    let mut out = row_item(row);
    escape_into(&mut out, qualifier);
    out.extend_from_slice(&TERM);
    out
}

/// Collects item hashes and encodes the filter; `(add_key | add)* finish`.
#[derive(Debug)]
pub struct BloomBuilder {
    bloom_type: BloomType,
    bits_per_item: usize,
    k: u8,
    hashes: Vec<u64>,
    last: Option<Vec<u8>>,
}

impl BloomBuilder {
    /// A builder; errors unless `1 <= num_probes <= 30` and `bits_per_item >= 1`.
    pub fn new(
        bloom_type: BloomType,
        bits_per_item: usize,
        num_probes: u8,
    ) -> Result<Self, String> {
        if !(1..=30).contains(&num_probes) || bits_per_item < 1 {
            return Err("bloom needs 1..30 probes and >= 1 bit per item".to_owned());
        }
        Ok(BloomBuilder {
            bloom_type,
            bits_per_item,
            k: num_probes,
            hashes: Vec::new(),
            last: None,
        })
    }

    /// The filter's type.
    pub fn bloom_type(&self) -> BloomType {
        self.bloom_type
    }

    /// Distinct items added so far.
    pub fn num_items(&self) -> usize {
        self.hashes.len()
    }

    /// Add one item (skipped when equal to the previous one).
    pub fn add(&mut self, item: &[u8]) {
        if self.last.as_deref() != Some(item) {
            self.hashes.push(xxh3_64(item));
            let last = self.last.get_or_insert_with(Vec::new);
            last.clear();
            last.extend_from_slice(item);
        }
    }

    /// Add the item of one internal key (keys arrive sorted, so repeats are adjacent).
    pub fn add_key(&mut self, key: &[u8]) {
        if let Some(item) = item_of_key(self.bloom_type, key) {
            self.add(item);
        }
    }

    /// Encode the filter block payload.
    pub fn finish(&self) -> Vec<u8> {
        let n = self.hashes.len();
        let m_bits = (n.saturating_mul(self.bits_per_item).saturating_add(7) / 8 * 8).max(64);
        let mut bits = vec![0u8; m_bits / 8];
        let m = m_bits as u64;
        for &h in &self.hashes {
            let b = h >> 32;
            let mut a = h & 0xffff_ffff;
            for _ in 0..self.k {
                let p = (a % m) as usize;
                bits[p >> 3] |= 1 << (p & 7);
                a = a.wrapping_add(b);
            }
        }
        let mut out = Vec::with_capacity(HEADER_SIZE + bits.len());
        out.extend_from_slice(&[self.bloom_type as u8, self.k, HASH_XXH3_DOUBLE, 0]);
        out.extend_from_slice(&(n.min(u32::MAX as usize) as u32).to_le_bytes());
        out.extend_from_slice(&bits);
        out
    }
}

/// A loaded filter; immutable.
#[derive(Debug, Clone)]
pub struct BloomFilter {
    bloom_type: BloomType,
    k: u8,
    num_items: u32,
    bits: Vec<u8>,
}

impl BloomFilter {
    /// Decode a bloom block payload; the error names what is malformed.
    pub fn decode(payload: &[u8]) -> Result<BloomFilter, String> {
        if payload.len() < HEADER_SIZE + 8 {
            return Err(format!(
                "bloom block of {} bytes is too short",
                payload.len()
            ));
        }
        let (t, k, hash_fn) = (payload[0], payload[1], payload[2]);
        let num_items = u32::from_le_bytes([payload[4], payload[5], payload[6], payload[7]]);
        if hash_fn != HASH_XXH3_DOUBLE {
            return Err(format!("unknown bloom hash function {hash_fn}"));
        }
        if !(1..=30).contains(&k) {
            return Err(format!("bad bloom probe count {k}"));
        }
        let bloom_type = BloomType::from_id(t).ok_or_else(|| format!("unknown bloom type {t}"))?;
        Ok(BloomFilter {
            bloom_type,
            k,
            num_items,
            bits: payload[HEADER_SIZE..].to_vec(),
        })
    }

    /// The filter's type.
    pub fn bloom_type(&self) -> BloomType {
        self.bloom_type
    }

    /// Distinct items the writer added (saturated at 2^32 - 1).
    pub fn num_items(&self) -> u32 {
        self.num_items
    }

    /// False only if `item` was certainly never added.
    pub fn may_contain(&self, item: &[u8]) -> bool {
        let m = self.bits.len() as u64 * 8;
        if m == 0 {
            return true; // decode forbids this; a filter that cannot say no is still correct
        }
        let h = xxh3_64(item);
        let b = h >> 32;
        let mut a = h & 0xffff_ffff;
        for _ in 0..self.k {
            let p = (a % m) as usize;
            if self.bits[p >> 3] >> (p & 7) & 1 == 0 {
                return false;
            }
            a = a.wrapping_add(b);
        }
        true
    }

    /// For a ROW filter: could `row` be in the file? (True for other filter types.)
    pub fn may_contain_row(&self, row: &[u8]) -> bool {
        self.bloom_type != BloomType::Row || self.may_contain(&row_item(row))
    }

    /// For a ROWCOL filter: could column `row`/`qualifier` be in the file?
    pub fn may_contain_rowcol(&self, row: &[u8], qualifier: &[u8]) -> bool {
        self.bloom_type != BloomType::RowCol || self.may_contain(&rowcol_item(row, qualifier))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::encode;
    use proptest::prelude::*;

    #[test]
    fn matches_the_golden_filter() {
        // tests/golden/sstable/basic_none_row_v1.hex: rows "row\0" "2" and "row1", k = 7
        let mut b = BloomBuilder::new(BloomType::Row, 10, 7).unwrap();
        for row in [&b"row\x002"[..], b"row\x002", b"row1"] {
            b.add_key(&encode(row, b"q", 1, 4, 1));
        }
        let payload = b.finish();
        assert_eq!(payload[..8], [1, 7, 1, 0, 2, 0, 0, 0]);
        assert_eq!(
            payload[8..],
            [0x04, 0x30, 0x60, 0x48, 0x08, 0x03, 0x03, 0x84]
        );
    }

    #[test]
    fn items_of_keys_use_escaped_prefixes() {
        let k = encode(b"r\x00w", b"q\x00", 5, 4, 1);
        assert_eq!(
            item_of_key(BloomType::Row, &k).unwrap(),
            row_item(b"r\x00w")
        );
        assert_eq!(
            item_of_key(BloomType::RowCol, &k).unwrap(),
            rowcol_item(b"r\x00w", b"q\x00")
        );
        assert_eq!(item_of_key(BloomType::None, &k), None);
        assert_eq!(item_of_key(BloomType::Row, b""), Some(&b""[..]));
        assert_eq!(item_of_key(BloomType::RowCol, b"ab"), Some(&b""[..]));
    }

    #[test]
    fn bad_headers_are_errors() {
        let good = BloomBuilder::new(BloomType::Row, 10, 7).unwrap().finish();
        assert!(BloomFilter::decode(&good).is_ok());
        for (i, v, msg) in [
            (2, 9, "hash function"),
            (1, 0, "probe count"),
            (1, 31, "probe count"),
            (0, 7, "bloom type"),
        ] {
            let mut bad = good.clone();
            bad[i] = v;
            assert!(BloomFilter::decode(&bad).unwrap_err().contains(msg));
        }
        for cut in 0..HEADER_SIZE + 8 {
            assert!(BloomFilter::decode(&good[..cut]).is_err());
        }
        assert!(BloomBuilder::new(BloomType::Row, 0, 7).is_err());
    }

    #[test]
    fn every_bit_flip_decodes_or_errors() {
        let mut b = BloomBuilder::new(BloomType::RowCol, 10, 7).unwrap();
        for i in 0..50u32 {
            b.add(&i.to_le_bytes());
        }
        let good = b.finish();
        for i in 0..good.len() {
            for bit in 0..8 {
                let mut bad = good.clone();
                bad[i] ^= 1 << bit;
                if let Ok(f) = BloomFilter::decode(&bad) {
                    let _ = (
                        f.may_contain(b"x"),
                        f.may_contain_row(b"r"),
                        f.may_contain_rowcol(b"r", b"q"),
                    );
                }
            }
        }
    }

    proptest! {
        #[test]
        fn no_false_negatives(items in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..10), 0..200)) {
            let mut b = BloomBuilder::new(BloomType::Row, 10, 7).unwrap();
            for it in &items {
                b.add(it);
            }
            let f = BloomFilter::decode(&b.finish()).unwrap();
            for it in &items {
                prop_assert!(f.may_contain(it));
            }
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64), item in proptest::collection::vec(any::<u8>(), 0..8)) {
            if let Ok(f) = BloomFilter::decode(&data) {
                let _ = f.may_contain(&item);
            }
        }
    }
}
