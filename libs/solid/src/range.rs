//! Byte ranges (RFC 9110 §14) for non-RDF resources.
//!
//! Written here rather than taken from a crate because the RFC's edge rules matter to clients
//! and the crates we tried differ from them (a suffix longer than the representation selects
//! all of it; overlapping ranges may be served, not refused).

use crate::error::SolidError;
use std::ops::RangeInclusive;

/// What to send in answer to a `Range` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeAnswer {
    /// No usable Range header (absent, another unit, or malformed): send the whole thing.
    Full,
    /// One or more satisfiable ranges, in request order, inclusive byte offsets.
    Partial(Vec<RangeInclusive<u64>>),
}

/// Most ranges we will serve in one multipart response; more is a cheap amplification attack.
pub const MAX_RANGES: usize = 32;

/// Interprets a `Range` header for a representation of `size` bytes.
///
/// Malformed headers are ignored as RFC 9110 §14.2 allows; a well-formed header none of whose
/// ranges can be satisfied yields [`SolidError::RangeNotSatisfiable`] (416).
pub fn evaluate(header: Option<&str>, size: u64) -> Result<RangeAnswer, SolidError> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(RangeAnswer::Full);
    };
    let mut ranges = Vec::new();
    let mut any_parsed = false;
    for part in spec.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((first, last)) = part.split_once('-') else {
            return Ok(RangeAnswer::Full);
        };
        let parse = |s: &str| s.trim().parse::<u64>().ok();
        let range = match (first.trim().is_empty(), last.trim().is_empty()) {
            (true, true) => return Ok(RangeAnswer::Full),
            (true, false) => {
                let Some(suffix) = parse(last) else {
                    return Ok(RangeAnswer::Full);
                };
                any_parsed = true;
                if suffix == 0 || size == 0 {
                    continue;
                }
                size.saturating_sub(suffix)..=size - 1
            }
            (false, open_end) => {
                let Some(start) = parse(first) else {
                    return Ok(RangeAnswer::Full);
                };
                let end = if open_end {
                    u64::MAX
                } else {
                    match parse(last) {
                        Some(e) if e >= start => e,
                        _ => return Ok(RangeAnswer::Full),
                    }
                };
                any_parsed = true;
                if start >= size {
                    continue;
                }
                start..=end.min(size - 1)
            }
        };
        ranges.push(range);
    }
    if !any_parsed {
        return Ok(RangeAnswer::Full);
    }
    if ranges.is_empty() {
        return Err(SolidError::RangeNotSatisfiable { size });
    }
    if ranges.len() > MAX_RANGES {
        // Too many pieces: serve the whole representation instead (allowed by the RFC).
        return Ok(RangeAnswer::Full);
    }
    // Overlapping ranges would send the same bytes again and again (`0-,0-,0-…`): coalesce
    // them, as RFC 9110 §14.3 allows, so a response never exceeds the representation.
    let merged = coalesce(&ranges);
    if merged.len() < ranges.len() {
        return Ok(RangeAnswer::Partial(merged));
    }
    Ok(RangeAnswer::Partial(ranges))
}

/// Merges overlapping ranges, in ascending order.
fn coalesce(ranges: &[RangeInclusive<u64>]) -> Vec<RangeInclusive<u64>> {
    let mut sorted = ranges.to_vec();
    sorted.sort_by_key(|r| *r.start());
    let mut merged: Vec<RangeInclusive<u64>> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match merged.last_mut() {
            Some(last) if r.start() <= last.end() => {
                *last = *last.start()..=(*last.end()).max(*r.end());
            }
            _ => merged.push(r),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(h: &str, size: u64) -> Vec<RangeInclusive<u64>> {
        match evaluate(Some(h), size).unwrap() {
            RangeAnswer::Partial(r) => r,
            RangeAnswer::Full => panic!("expected partial for {h}"),
        }
    }

    #[test]
    fn single_ranges() {
        assert_eq!(partial("bytes=0-9", 100), vec![0..=9]);
        assert_eq!(partial("bytes=90-", 100), vec![90..=99]);
        assert_eq!(partial("bytes=-10", 100), vec![90..=99]);
        assert_eq!(partial("bytes=95-200", 100), vec![95..=99]);
    }

    #[test]
    fn suffix_longer_than_representation_selects_all() {
        assert_eq!(partial("bytes=-500", 100), vec![0..=99]);
    }

    #[test]
    fn multiple_ranges_keep_order() {
        assert_eq!(partial("bytes=50-59, 0-9", 100), vec![50..=59, 0..=9]);
    }

    #[test]
    fn unsatisfiable_is_416() {
        assert_eq!(
            evaluate(Some("bytes=100-"), 100),
            Err(SolidError::RangeNotSatisfiable { size: 100 })
        );
        assert_eq!(
            evaluate(Some("bytes=-0"), 100),
            Err(SolidError::RangeNotSatisfiable { size: 100 })
        );
        assert!(evaluate(Some("bytes=0-"), 0).is_err());
    }

    #[test]
    fn some_satisfiable_ranges_are_enough() {
        assert_eq!(partial("bytes=500-600, 0-0", 100), vec![0..=0]);
    }

    #[test]
    fn malformed_or_other_units_are_ignored() {
        for h in ["items=0-1", "bytes=abc", "bytes=9-1", "bytes=-", "bytes=1"] {
            assert_eq!(evaluate(Some(h), 100), Ok(RangeAnswer::Full), "{h}");
        }
        assert_eq!(evaluate(None, 100), Ok(RangeAnswer::Full));
    }

    #[test]
    fn overlapping_ranges_never_send_more_than_the_representation() {
        let h = format!("bytes={}", vec!["0-"; 32].join(","));
        assert_eq!(partial(&h, 65536), vec![0..=65535]);
        assert_eq!(
            partial("bytes=10-19, 0-14, 50-59", 60),
            vec![0..=19, 50..=59]
        );
        // Disjoint ranges keep the order they were asked in.
        assert_eq!(partial("bytes=50-59, 0-9", 100), vec![50..=59, 0..=9]);
    }

    #[test]
    fn too_many_ranges_serve_everything() {
        let h = format!(
            "bytes={}",
            (0..40)
                .map(|i| format!("{i}-{i}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(evaluate(Some(&h), 100), Ok(RangeAnswer::Full));
    }
}
