//! Content negotiation: parsing `Accept` and `Content-Type`, choosing a representation.

use crate::error::SolidError;

/// One media range of an `Accept` header with its weight.
#[derive(Debug, Clone, PartialEq)]
struct MediaRange {
    kind: String,
    subtype: String,
    q: f32,
}

fn parse_accept(header: &str) -> Vec<MediaRange> {
    header
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let range = parts.next()?.trim().to_ascii_lowercase();
            let (kind, subtype) = range.split_once('/')?;
            let mut q = 1.0;
            for param in parts {
                if let Some((k, v)) = param.split_once('=') {
                    if k.trim().eq_ignore_ascii_case("q") {
                        q = v
                            .trim()
                            .parse::<f32>()
                            .ok()
                            .filter(|q| (0.0..=1.0).contains(q))?;
                    }
                }
            }
            Some(MediaRange {
                kind: kind.trim().into(),
                subtype: subtype.trim().into(),
                q,
            })
        })
        .collect()
}

/// Weight an Accept header gives to `offer`: the q of the most specific matching range.
fn weight(ranges: &[MediaRange], offer: &str) -> f32 {
    let Some((kind, subtype)) = offer.split_once('/') else {
        return 0.0;
    };
    let mut best: Option<(u8, f32)> = None;
    for r in ranges {
        let specificity = match (r.kind.as_str(), r.subtype.as_str()) {
            (k, s) if k == kind && s == subtype => 3,
            (k, "*") if k == kind => 2,
            ("*", "*") => 1,
            _ => continue,
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, r.q));
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

/// Picks the offer the client prefers; ties go to the earlier (server-preferred) offer.
/// A missing or empty `Accept` accepts anything.
pub fn negotiate<'a>(accept: Option<&str>, offers: &[&'a str]) -> Result<&'a str, SolidError> {
    let not_acceptable = || SolidError::NotAcceptable {
        available: offers.join(", "),
    };
    let ranges = match accept.map(str::trim) {
        None | Some("") => return offers.first().copied().ok_or_else(not_acceptable),
        Some(h) => parse_accept(h),
    };
    if ranges.is_empty() {
        // An Accept header we cannot read at all is treated as absent, as browsers expect.
        return offers.first().copied().ok_or_else(not_acceptable);
    }
    let mut chosen: Option<(&str, f32)> = None;
    for offer in offers {
        let q = weight(&ranges, offer);
        if q > 0.0 && chosen.is_none_or(|(_, best)| q > best) {
            chosen = Some((offer, q));
        }
    }
    chosen.map(|(o, _)| o).ok_or_else(not_acceptable)
}

/// The essence (`type/subtype`, lower case, no parameters) of a Content-Type header value.
pub fn media_type_essence(content_type: &str) -> Result<String, SolidError> {
    let malformed = || SolidError::BadRequest(format!("malformed Content-Type: {content_type}"));
    let mime: mime::Mime = content_type.parse().map_err(|_| malformed())?;
    // The mime crate accepts an empty subtype (`text/`); RFC 9110 §8.3.1 requires a token.
    if mime.subtype().as_str().is_empty() {
        return Err(malformed());
    }
    Ok(mime.essence_str().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RDF: &[&str] = &[
        "text/turtle",
        "application/ld+json",
        "application/n-triples",
    ];

    #[test]
    fn absent_accept_gets_server_preference() {
        assert_eq!(negotiate(None, RDF), Ok("text/turtle"));
        assert_eq!(negotiate(Some(""), RDF), Ok("text/turtle"));
    }

    #[test]
    fn exact_match_beats_wildcards() {
        assert_eq!(
            negotiate(Some("application/ld+json"), RDF),
            Ok("application/ld+json")
        );
        assert_eq!(
            negotiate(Some("*/*;q=0.1, application/n-triples"), RDF),
            Ok("application/n-triples")
        );
        assert_eq!(
            negotiate(Some("application/*"), RDF),
            Ok("application/ld+json")
        );
    }

    #[test]
    fn q_values_order_choices() {
        assert_eq!(
            negotiate(Some("text/turtle;q=0.5, application/ld+json;q=0.9"), RDF),
            Ok("application/ld+json")
        );
        // q=0 excludes even when a wildcard would match.
        assert_eq!(
            negotiate(Some("text/turtle;q=0, */*"), RDF),
            Ok("application/ld+json")
        );
    }

    #[test]
    fn nothing_acceptable_is_an_error() {
        assert!(matches!(
            negotiate(Some("image/png"), RDF),
            Err(SolidError::NotAcceptable { .. })
        ));
        assert!(negotiate(Some("text/turtle;q=0"), &["text/turtle"]).is_err());
    }

    #[test]
    fn browser_accept_headers_work() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert_eq!(negotiate(Some(browser), RDF), Ok("text/turtle"));
    }

    #[test]
    fn content_type_essence() {
        assert_eq!(
            media_type_essence("Text/Turtle; charset=utf-8").unwrap(),
            "text/turtle"
        );
        assert!(media_type_essence("not a type").is_err());
        assert!(media_type_essence("text/").is_err());
    }
}
