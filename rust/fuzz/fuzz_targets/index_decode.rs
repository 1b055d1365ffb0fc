//! Fuzz the index-block path (rust/src/sstable): any bytes as an index payload, and as a
//! footer. Decoding must never panic; every entry's handle either decodes or is an error,
//! and a footer that parses has in-bounds handles and a depth >= 1.
#![no_main]

use _core::sstable::block::{Block, HANDLE_SIZE};
use _core::sstable::format::{parse_footer, FOOTER_SIZE, TRAILER_SIZE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = Block::decode(data.to_vec()) {
        for i in 0..b.len() {
            match b.handle(i) {
                Ok(_) => assert_eq!(b.value(i).map(<[u8]>::len), Some(HANDLE_SIZE)),
                Err(_) => assert_ne!(b.value(i).map(<[u8]>::len), Some(HANDLE_SIZE)),
            }
        }
        let _ = b.seek(data.get(..8).unwrap_or(data));
    }
    if data.len() >= FOOTER_SIZE {
        let (body, footer) = data.split_at(data.len() - FOOTER_SIZE);
        let size = body.len() as u64 + FOOTER_SIZE as u64;
        if let Ok(f) = parse_footer(footer, size) {
            assert!(f.index_depth >= 1);
            for (off, n) in [f.meta, f.index, f.bloom] {
                if (off, n) != (0, 0) {
                    assert!(off + u64::from(n) + TRAILER_SIZE as u64 <= body.len() as u64);
                }
            }
        }
    }
});
