//! Data and index blocks: an entry count, two offset arrays, a keys blob, a values blob.
//!
//! Format: docs/formats/sstable.md#field-grammar (authoritative). Summary:
//!
//! ```text
//! payload := n:u32le key_off:u32le*(n+1) val_off:u32le*(n+1) key_bytes* value_bytes*
//! key i   := payload[key_off[i] : key_off[i+1]]     (offsets from payload start)
//! value i := payload[val_off[i] : val_off[i+1]]
//! key_off[0] = 4 + 8(n+1);  key_off[n] = val_off[0];  val_off[n] = len(payload)
//! ```
//!
//! There are no restart points: the offset arrays give random access to every entry, so a
//! seek is one binary search over the keys.
//! Invariants: a decoded `Block` has offsets that are monotonic and inside its payload
//! (checked once in `decode`), so every accessor is in bounds. Keys are sorted when the
//! writer wrote them; `decode` does not check order (a corrupt order makes seeks return
//! wrong positions, never read out of bounds).
//! Concurrency: a `Block` is immutable.

/// Bytes of offsets each entry adds to a payload (one key offset, one value offset).
pub const ENTRY_OVERHEAD: usize = 8;
/// Size of an empty block's payload (the count and the two closing offsets).
pub const EMPTY_SIZE: usize = 4 + ENTRY_OVERHEAD;
/// An index entry's value: offset:u64le size:u32le.
pub const HANDLE_SIZE: usize = 12;

/// Size of the payload `encode(keys, values)` produces.
pub fn encoded_len<K: AsRef<[u8]>, V: AsRef<[u8]>>(keys: &[K], values: &[V]) -> usize {
    EMPTY_SIZE
        + keys.len() * ENTRY_OVERHEAD
        + keys.iter().map(|k| k.as_ref().len()).sum::<usize>()
        + values.iter().map(|v| v.as_ref().len()).sum::<usize>()
}

/// Encode parallel lists of keys and values as one block payload.
/// Errors when the lists differ in length or the payload would reach 4 GiB.
pub fn encode<K: AsRef<[u8]>, V: AsRef<[u8]>>(keys: &[K], values: &[V]) -> Result<Vec<u8>, String> {
    if keys.len() != values.len() {
        return Err(format!("{} keys but {} values", keys.len(), values.len()));
    }
    let total = encoded_len(keys, values);
    if u32::try_from(total).is_err() {
        return Err("block payload would exceed 4 GiB".to_owned());
    }
    let n = keys.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(n as u32).to_le_bytes());
    // every offset is <= total < 2^32, checked above
    let mut off = 4 + 8 * (n + 1);
    for part in [
        keys.iter().map(|k| k.as_ref().len()).collect::<Vec<_>>(),
        values.iter().map(|v| v.as_ref().len()).collect::<Vec<_>>(),
    ] {
        out.extend_from_slice(&(off as u32).to_le_bytes());
        for len in part {
            off += len;
            out.extend_from_slice(&(off as u32).to_le_bytes());
        }
    }
    // key_off[n] and val_off[0] are the same number; the loop wrote it twice, as required
    for k in keys {
        out.extend_from_slice(k.as_ref());
    }
    for v in values {
        out.extend_from_slice(v.as_ref());
    }
    debug_assert_eq!(out.len(), total);
    Ok(out)
}

/// One decoded block: the payload plus its validated offsets.
#[derive(Debug, Clone)]
pub struct Block {
    data: Vec<u8>,
    /// key_off[0..=n] followed by val_off[0..=n].
    offs: Vec<u32>,
    n: usize,
}

fn u32_at(data: &[u8], pos: usize) -> Option<u32> {
    let b = data.get(pos..pos.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

impl Block {
    /// Decode a payload; the error names what is malformed.
    pub fn decode(data: Vec<u8>) -> Result<Block, String> {
        let size = data.len();
        if size < EMPTY_SIZE {
            return Err(format!("block payload of {size} bytes is too short"));
        }
        let n = u32_at(&data, 0).ok_or("block payload too short")? as usize;
        // n < 2^32, so 8 * (n + 1) fits a u64 and, on 64-bit hosts, a usize
        let base = (n as u64 + 1)
            .checked_mul(8)
            .and_then(|x| x.checked_add(4))
            .filter(|&b| b <= size as u64)
            .ok_or_else(|| format!("block claims {n} entries but has only {size} bytes"))?
            as usize;
        let offs: Vec<u32> = data[4..base]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        let (key_off, val_off) = offs.split_at(n + 1);
        if key_off[0] as usize != base || key_off[n] != val_off[0] || val_off[n] as usize != size {
            return Err("block offsets do not match the payload size".to_owned());
        }
        if offs.windows(2).any(|w| w[0] > w[1]) {
            return Err("block offsets are not in increasing order".to_owned());
        }
        Ok(Block { data, offs, n })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.n
    }

    /// True when the block has no entries.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The payload's size in bytes.
    pub fn payload_len(&self) -> usize {
        self.data.len()
    }

    /// Key `i`; `i < len()` is required (None otherwise).
    pub fn key(&self, i: usize) -> Option<&[u8]> {
        if i >= self.n {
            return None;
        }
        self.data
            .get(self.offs[i] as usize..self.offs[i + 1] as usize)
    }

    /// Value `i`; `i < len()` is required (None otherwise).
    pub fn value(&self, i: usize) -> Option<&[u8]> {
        if i >= self.n {
            return None;
        }
        let v = self.n + 1 + i;
        self.data
            .get(self.offs[v] as usize..self.offs[v + 1] as usize)
    }

    /// Index of the first entry whose key is `>= key` (`len()` if none).
    pub fn seek(&self, key: &[u8]) -> usize {
        self.seek_from(0, key)
    }

    /// Like `seek`, searching entries `lo..` only.
    pub fn seek_from(&self, lo: usize, key: &[u8]) -> usize {
        let (mut lo, mut hi) = (lo.min(self.n), self.n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.key(mid).is_some_and(|k| k < key) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Entry `i`'s value decoded as a block handle `(offset, size)`: for index blocks.
    pub fn handle(&self, i: usize) -> Result<(u64, u32), String> {
        match self.value(i) {
            Some(v) if v.len() == HANDLE_SIZE => {
                let mut off = [0u8; 8];
                off.copy_from_slice(&v[..8]);
                let mut size = [0u8; 4];
                size.copy_from_slice(&v[8..]);
                Ok((u64::from_le_bytes(off), u32::from_le_bytes(size)))
            }
            Some(_) => Err(format!("index entry {i} is not a block handle")),
            None => Err(format!("index entry {i} is out of range")),
        }
    }
}

/// Encode a handle as an index entry's value.
pub fn encode_handle(offset: u64, size: u32) -> [u8; HANDLE_SIZE] {
    let mut out = [0u8; HANDLE_SIZE];
    out[..8].copy_from_slice(&offset.to_le_bytes());
    out[8..].copy_from_slice(&size.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_the_documented_bytes() {
        let p = encode(&[&b"a"[..], b"bc"], &[&b""[..], b"v"]).unwrap();
        let words: Vec<u32> = p[..28]
            .chunks(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(words, [2, 28, 29, 31, 31, 31, 32]);
        assert_eq!(&p[28..], b"abcv");
        assert_eq!(encoded_len(&[&b"a"[..], b"bc"], &[&b""[..], b"v"]), p.len());
    }

    #[test]
    fn empty_block() {
        let b = Block::decode(encode::<&[u8], &[u8]>(&[], &[]).unwrap()).unwrap();
        assert_eq!((b.len(), b.seek(b"x")), (0, 0));
        assert!(b.key(0).is_none() && b.value(0).is_none());
    }

    #[test]
    fn seek_and_handles() {
        let keys: Vec<&[u8]> = vec![b"b", b"d", b"f"];
        let hs: Vec<[u8; 12]> = (0..3)
            .map(|i| encode_handle(i * 100, i as u32 + 1))
            .collect();
        let b = Block::decode(encode(&keys, &hs).unwrap()).unwrap();
        assert_eq!(
            [b"a", b"b", b"c", b"f", b"g"].map(|k| b.seek(k)),
            [0, 0, 1, 2, 3]
        );
        assert_eq!(b.seek_from(2, b"a"), 2);
        assert_eq!(b.handle(2).unwrap(), (200, 3));
        assert!(b.handle(3).is_err());
        let short = Block::decode(encode(&[b"a"], &[b"short"]).unwrap()).unwrap();
        assert!(short.handle(0).unwrap_err().contains("not a block handle"));
    }

    #[test]
    fn mismatched_lists_are_errors() {
        assert!(encode(&[b"a"], &[] as &[&[u8]]).is_err());
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error_or_in_bounds() {
        let keys: Vec<Vec<u8>> = (0..20u8).map(|i| vec![b'k', i]).collect();
        let vals: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; i as usize]).collect();
        let good = encode(&keys, &vals).unwrap();
        for cut in 0..good.len() {
            assert!(Block::decode(good[..cut].to_vec()).is_err(), "cut {cut}");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert!(Block::decode(longer).is_err());
        for i in 0..good.len() {
            for bit in 0..8 {
                let mut bad = good.clone();
                bad[i] ^= 1 << bit;
                if let Ok(b) = Block::decode(bad) {
                    exercise(&b);
                }
            }
        }
    }

    fn exercise(b: &Block) {
        for i in 0..=b.len() {
            let _ = (b.key(i), b.value(i), b.handle(i));
        }
        let _ = (b.seek(b"k\x05"), b.seek(b""), b.seek(b"\xff"));
    }

    proptest! {
        #[test]
        fn round_trip(mut keys in proptest::collection::btree_set(proptest::collection::vec(any::<u8>(), 0..12), 0..60),
                      seed in any::<u8>()) {
            let keys: Vec<Vec<u8>> = std::mem::take(&mut keys).into_iter().collect();
            let vals: Vec<Vec<u8>> = keys.iter().map(|k| k.iter().map(|c| c ^ seed).collect()).collect();
            let b = Block::decode(encode(&keys, &vals).unwrap()).unwrap();
            prop_assert_eq!(b.len(), keys.len());
            for (i, (k, v)) in keys.iter().zip(&vals).enumerate() {
                prop_assert_eq!(b.key(i).unwrap(), &k[..]);
                prop_assert_eq!(b.value(i).unwrap(), &v[..]);
                prop_assert_eq!(b.seek(k), i);
            }
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(b) = Block::decode(data) {
                exercise(&b);
            }
        }
    }
}
