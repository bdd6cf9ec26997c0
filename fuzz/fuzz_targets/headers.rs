//! `Link`, `Accept` and `Content-Type` headers: never panic, and negotiation only ever picks
//! one of the offers.
//!
//! Input: header values separated by LF: Link headers, then an Accept line, then a
//! Content-Type line (the last two are the last two lines).
#![no_main]

use libfuzzer_sys::fuzz_target;
use podplane_solid::conneg::{media_type_essence, negotiate};
use podplane_solid::headers::requested_types;
use podplane_solid::rdf::RdfFormat;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines: Vec<&str> = text.split('\n').collect();
    for target in requested_types(lines.iter().copied()) {
        assert!(text.contains(&target));
    }
    let accept = lines.iter().rev().nth(1).copied();
    let offers = RdfFormat::MEDIA_TYPES;
    if let Ok(chosen) = negotiate(accept, &offers) {
        assert!(offers.contains(&chosen));
    }
    if let Some(content_type) = lines.last() {
        if let Ok(essence) = media_type_essence(content_type) {
            assert!(essence.contains('/') && essence == essence.to_ascii_lowercase());
        }
    }
});
