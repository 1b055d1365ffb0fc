//! Fuzz the log-record decoder (rust/src/wal_record.rs): any bytes, any start offset,
//! strict or lenient tail. It must never panic, every record it returns must be valid
//! and inside the data, and a corruption verdict must point forward (no endless skip).
#![no_main]

use _core::wal_record::{scan, valid_at, Stop};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Some((&flags, data)) = input.split_first() else {
        return;
    };
    let types: &[u8] = if flags & 1 == 0 { &[1] } else { &[1, 2] };
    let lenient = flags & 2 != 0;
    let mut pos = usize::from(flags >> 2) % (data.len() + 1);
    loop {
        let (records, stop) = scan(data, pos, types, lenient);
        for r in &records {
            assert!(r.pos >= pos && r.end <= data.len());
            assert_eq!(valid_at(data, r.pos, types), Some(r.end));
        }
        match stop {
            Stop::End | Stop::Torn { .. } => break,
            Stop::Corrupt { pos: p, resume, .. } => {
                assert!(resume > p && resume <= data.len());
                pos = resume;
            }
        }
    }
});
