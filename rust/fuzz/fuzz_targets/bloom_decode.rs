//! Fuzz the bloom-block decoder (rust/src/sstable/bloom.rs): any bytes as a bloom payload.
//! Decoding must never panic, and a filter that decodes must answer queries; a filter
//! rebuilt from items must contain each of them (no false negatives).
#![no_main]

use _core::sstable::bloom::{BloomBuilder, BloomFilter, BloomType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(f) = BloomFilter::decode(data) {
        let _ = f.may_contain(data);
        let _ = f.may_contain_row(data.get(..3).unwrap_or(data));
        let _ = f.may_contain_rowcol(data.get(..2).unwrap_or(data), data.get(2..4).unwrap_or(b""));
    }
    let items: Vec<&[u8]> = data.chunks(5).collect();
    if let Ok(mut b) = BloomBuilder::new(BloomType::Row, 10, 7) {
        for it in &items {
            b.add(it);
        }
        let f = BloomFilter::decode(&b.finish()).expect("a built filter decodes");
        assert!(items.iter().all(|it| f.may_contain(it)));
    }
});
