//! Conditional request headers (`If-Match`, `If-None-Match`, `If-Modified-Since`,
//! `If-Unmodified-Since`, `If-Range`): never panic, 304 only for safe methods, no conditions
//! means proceed, and dates we read format back to themselves.
//!
//! Input: a flags byte (bit 0: the resource exists, bit 1: GET/HEAD), then header lines
//! `Name: value`, as a client would send them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podplane_fuzz::NOW;
use podplane_solid::preconditions::{
    evaluate, format_http_date, if_range_holds, parse_http_date, Conditions, Outcome, Validators,
};

/// The current representation the seeds were written against.
const CURRENT: Validators<'static> = Validators {
    etag: "\"abc\"",
    last_modified: NOW,
};

fuzz_target!(|data: &[u8]| {
    let Some((flags, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (exists, safe) = (flags & 1 == 1, flags & 2 == 2);
    let mut conditions = Conditions::default();
    let mut if_range = None;
    for line in text.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "if-match" => conditions.if_match = Some(value),
            "if-none-match" => conditions.if_none_match = Some(value),
            "if-modified-since" => conditions.if_modified_since = Some(value),
            "if-unmodified-since" => conditions.if_unmodified_since = Some(value),
            "if-range" => if_range = Some(value),
            _ => {}
        }
    }
    let outcome = evaluate(&conditions, exists.then_some(CURRENT), safe);
    if !safe {
        assert_ne!(outcome, Outcome::NotModified);
    }
    if !exists && conditions.if_match.is_none() {
        assert_eq!(outcome, Outcome::Proceed, "{conditions:?}");
    }
    let none = Conditions::default();
    assert_eq!(evaluate(&none, Some(CURRENT), safe), Outcome::Proceed);
    if let Some(value) = if_range {
        let _ = if_range_holds(value, CURRENT, NOW + 10);
    }
    let dates = [
        if_range,
        conditions.if_modified_since,
        conditions.if_unmodified_since,
    ];
    for secs in dates.into_iter().flatten().filter_map(parse_http_date) {
        assert_eq!(parse_http_date(&format_http_date(secs)), Some(secs));
    }
});
