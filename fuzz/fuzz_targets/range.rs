//! `Range` headers: every range served lies inside the representation, there are at most
//! `MAX_RANGES` of them, and the only error is 416.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podplane_solid::range::{evaluate, RangeAnswer, MAX_RANGES};
use podplane_solid::SolidError;

fuzz_target!(|data: &[u8]| {
    // The first eight bytes are the representation's size; small sizes are the interesting
    // ones, so most inputs use one byte of it.
    let (size, header) = match data.split_first() {
        Some((&n, rest)) if n < 0xf0 => (u64::from(n), rest),
        Some((_, rest)) if rest.len() >= 8 => {
            let (n, rest) = rest.split_at(8);
            (u64::from_le_bytes(n.try_into().unwrap_or_default()), rest)
        }
        _ => return,
    };
    let Ok(header) = std::str::from_utf8(header) else {
        return;
    };
    match evaluate(Some(header), size) {
        Ok(RangeAnswer::Full) => {}
        Ok(RangeAnswer::Partial(ranges)) => {
            assert!(!ranges.is_empty() && ranges.len() <= MAX_RANGES);
            for r in ranges {
                assert!(r.start() <= r.end() && *r.end() < size, "{r:?} of {size}");
            }
        }
        Err(SolidError::RangeNotSatisfiable { size: s }) => assert_eq!(s, size),
        Err(e) => panic!("unexpected {e:?}"),
    }
});
