//! Fuzz the data-block path of the store-file reader (rust/src/sstable): any bytes as a
//! block read back (stored bytes + trailer), and the same bytes as a bare payload. Opening
//! must never panic; a block that decodes must answer every accessor in bounds, and its
//! seek must agree with a linear scan.
#![no_main]

use _core::sstable::block::Block;
use _core::sstable::format::{open, BlockType};
use libfuzzer_sys::fuzz_target;

fn exercise(b: &Block, probe: &[u8]) {
    let n = b.len();
    for i in 0..=n {
        let _ = (b.key(i), b.value(i), b.handle(i));
    }
    let i = b.seek(probe);
    assert!(i <= n);
    // sorted blocks: seek == the first key >= probe; unsorted ones only stay in bounds
    let sorted = (1..n).all(|j| b.key(j - 1) < b.key(j));
    if sorted {
        let linear = (0..n).find(|&j| b.key(j).is_some_and(|k| k >= probe)).unwrap_or(n);
        assert_eq!(i, linear);
    }
}

fuzz_target!(|input: &[u8]| {
    let (probe, data) = input.split_at(input.len().min(4));
    if let Ok(payload) = open(data, BlockType::Data) {
        if let Ok(b) = Block::decode(payload.into_owned()) {
            exercise(&b, probe);
        }
    }
    if let Ok(b) = Block::decode(data.to_vec()) {
        exercise(&b, probe);
    }
});
