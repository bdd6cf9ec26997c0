//! Conditional requests (RFC 9110 §13): `If-Match`, `If-None-Match`, `If-Modified-Since`,
//! `If-Unmodified-Since`, evaluated in the order §13.2.2 prescribes.

/// The validators of the current representation; `None` when the resource does not exist.
#[derive(Debug, Clone, Copy)]
pub struct Validators<'a> {
    /// The strong entity tag, with its quotes (`"abc"`).
    pub etag: &'a str,
    /// Last modification, whole seconds since the Unix epoch.
    pub last_modified: i64,
}

/// The conditional headers of a request, as received.
#[derive(Debug, Clone, Default)]
pub struct Conditions<'a> {
    pub if_match: Option<&'a str>,
    pub if_none_match: Option<&'a str>,
    pub if_modified_since: Option<&'a str>,
    pub if_unmodified_since: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Proceed,
    /// 304: only for GET and HEAD.
    NotModified,
    /// 412.
    PreconditionFailed,
}

/// Evaluates the conditions for a request with method `safe` (GET/HEAD) or not.
pub fn evaluate(conditions: &Conditions, current: Option<Validators>, safe: bool) -> Outcome {
    // Step 1 / 2: If-Match, else If-Unmodified-Since.
    if let Some(if_match) = conditions.if_match {
        let pass = match current {
            None => false,
            Some(v) => if_match.trim() == "*" || tags(if_match).any(|t| strong_eq(t, v.etag)),
        };
        if !pass {
            return Outcome::PreconditionFailed;
        }
    } else if let (Some(date), Some(v)) = (conditions.if_unmodified_since, current) {
        if let Some(since) = parse_http_date(date) {
            if v.last_modified > since {
                return Outcome::PreconditionFailed;
            }
        }
    }
    // Step 3 / 4: If-None-Match, else If-Modified-Since (GET/HEAD only).
    let fail = if safe {
        Outcome::NotModified
    } else {
        Outcome::PreconditionFailed
    };
    if let Some(if_none_match) = conditions.if_none_match {
        let matched = match current {
            None => false,
            Some(v) => {
                if_none_match.trim() == "*" || tags(if_none_match).any(|t| weak_eq(t, v.etag))
            }
        };
        if matched {
            return fail;
        }
    } else if safe {
        if let (Some(date), Some(v)) = (conditions.if_modified_since, current) {
            if let Some(since) = parse_http_date(date) {
                if v.last_modified <= since {
                    return Outcome::NotModified;
                }
            }
        }
    }
    Outcome::Proceed
}

/// The conditional headers of a write, owned so they can travel with the write to the
/// transaction that commits it and be evaluated there, against the row as it is at commit.
/// (`If-Modified-Since` only applies to GET and HEAD.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteConditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_unmodified_since: Option<String>,
}

impl WriteConditions {
    /// Whether a write may proceed on `current` (`None`: the resource does not exist).
    pub fn hold(&self, current: Option<Validators>) -> bool {
        let conditions = Conditions {
            if_match: self.if_match.as_deref(),
            if_none_match: self.if_none_match.as_deref(),
            if_modified_since: None,
            if_unmodified_since: self.if_unmodified_since.as_deref(),
        };
        evaluate(&conditions, current, false) == Outcome::Proceed
    }
}

/// Whether an `If-Range` value still selects the current representation (RFC 9110 §13.1.5):
/// a strong entity tag that matches, or a date equal to Last-Modified when that date is a
/// strong validator, i.e. at least a second older than `now` (§8.8.2.2): two writes within one
/// second share a Last-Modified, and a range of the newer would be spliced onto the older.
pub fn if_range_holds(if_range: &str, current: Validators, now: i64) -> bool {
    let value = if_range.trim();
    if value.starts_with('"') {
        strong_eq(value, current.etag)
    } else if value.starts_with("W/") {
        false
    } else {
        parse_http_date(value) == Some(current.last_modified) && current.last_modified < now - 1
    }
}

fn tags(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|t| !t.is_empty())
}

fn strong_eq(candidate: &str, current: &str) -> bool {
    !candidate.starts_with("W/") && candidate == current
}

fn weak_eq(candidate: &str, current: &str) -> bool {
    candidate.strip_prefix("W/").unwrap_or(candidate)
        == current.strip_prefix("W/").unwrap_or(current)
}

/// Parses an HTTP date into Unix seconds; `None` for an invalid date, which the RFC says to
/// ignore.
pub fn parse_http_date(value: &str) -> Option<i64> {
    let t = httpdate::parse_http_date(value.trim()).ok()?;
    let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs).ok()
}

/// Formats Unix seconds as an HTTP date (`Last-Modified`).
pub fn format_http_date(secs: i64) -> String {
    let t =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(secs).unwrap_or(0));
    httpdate::fmt_http_date(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_conditions_hold_as_their_headers_evaluate() {
        let none = WriteConditions::default();
        assert!(none.hold(None) && none.hold(Some(V)));
        let create_only = WriteConditions {
            if_none_match: Some("*".into()),
            ..WriteConditions::default()
        };
        assert!(create_only.hold(None));
        assert!(!create_only.hold(Some(V)));
        let replace = WriteConditions {
            if_match: Some("\"v1\"".into()),
            ..WriteConditions::default()
        };
        assert!(replace.hold(Some(V)));
        assert!(!replace.hold(None));
        let old = WriteConditions {
            if_unmodified_since: Some("Sun, 01 Jan 2023 00:00:00 GMT".into()),
            ..WriteConditions::default()
        };
        assert!(!old.hold(Some(V)));
    }

    const V: Validators = Validators {
        etag: "\"v1\"",
        last_modified: 1_700_000_000,
    };

    fn c<'a>(f: impl FnOnce(&mut Conditions<'a>)) -> Conditions<'a> {
        let mut c = Conditions::default();
        f(&mut c);
        c
    }

    #[test]
    fn if_match_strong_comparison() {
        assert_eq!(
            evaluate(&c(|c| c.if_match = Some("\"v1\"")), Some(V), false),
            Outcome::Proceed
        );
        assert_eq!(
            evaluate(&c(|c| c.if_match = Some("\"x\", \"v1\"")), Some(V), false),
            Outcome::Proceed
        );
        assert_eq!(
            evaluate(&c(|c| c.if_match = Some("W/\"v1\"")), Some(V), false),
            Outcome::PreconditionFailed
        );
        assert_eq!(
            evaluate(&c(|c| c.if_match = Some("\"v2\"")), Some(V), true),
            Outcome::PreconditionFailed
        );
    }

    #[test]
    fn if_match_star_needs_existing_resource() {
        assert_eq!(
            evaluate(&c(|c| c.if_match = Some("*")), Some(V), false),
            Outcome::Proceed
        );
        assert_eq!(
            evaluate(&c(|c| c.if_match = Some("*")), None, false),
            Outcome::PreconditionFailed
        );
    }

    #[test]
    fn if_none_match_star_is_create_only() {
        assert_eq!(
            evaluate(&c(|c| c.if_none_match = Some("*")), None, false),
            Outcome::Proceed
        );
        assert_eq!(
            evaluate(&c(|c| c.if_none_match = Some("*")), Some(V), false),
            Outcome::PreconditionFailed
        );
    }

    #[test]
    fn if_none_match_on_get_is_304_weakly() {
        assert_eq!(
            evaluate(&c(|c| c.if_none_match = Some("W/\"v1\"")), Some(V), true),
            Outcome::NotModified
        );
        assert_eq!(
            evaluate(&c(|c| c.if_none_match = Some("\"v0\"")), Some(V), true),
            Outcome::Proceed
        );
    }

    #[test]
    fn if_modified_since_only_without_if_none_match() {
        let later = "Wed, 15 Nov 2023 00:00:00 GMT";
        let earlier = "Sun, 01 Jan 2023 00:00:00 GMT";
        assert_eq!(
            evaluate(&c(|c| c.if_modified_since = Some(later)), Some(V), true),
            Outcome::NotModified
        );
        assert_eq!(
            evaluate(&c(|c| c.if_modified_since = Some(earlier)), Some(V), true),
            Outcome::Proceed
        );
        let both = c(|c| {
            c.if_modified_since = Some(later);
            c.if_none_match = Some("\"other\"");
        });
        assert_eq!(evaluate(&both, Some(V), true), Outcome::Proceed);
        // Never for unsafe methods.
        assert_eq!(
            evaluate(&c(|c| c.if_modified_since = Some(later)), Some(V), false),
            Outcome::Proceed
        );
    }

    #[test]
    fn if_unmodified_since() {
        let earlier = "Sun, 01 Jan 2023 00:00:00 GMT";
        assert_eq!(
            evaluate(
                &c(|c| c.if_unmodified_since = Some(earlier)),
                Some(V),
                false
            ),
            Outcome::PreconditionFailed
        );
        assert_eq!(
            evaluate(
                &c(|c| c.if_unmodified_since = Some("garbage")),
                Some(V),
                false
            ),
            Outcome::Proceed
        );
        // If-Match takes precedence.
        let both = c(|c| {
            c.if_match = Some("\"v1\"");
            c.if_unmodified_since = Some(earlier);
        });
        assert_eq!(evaluate(&both, Some(V), false), Outcome::Proceed);
    }

    #[test]
    fn if_range() {
        let later = V.last_modified + 60;
        assert!(if_range_holds("\"v1\"", V, later));
        assert!(!if_range_holds("W/\"v1\"", V, later));
        assert!(if_range_holds(&format_http_date(V.last_modified), V, later));
        assert!(!if_range_holds("Sun, 01 Jan 2023 00:00:00 GMT", V, later));
        // A date from the current second is weak: it may not identify one version.
        assert!(!if_range_holds(
            &format_http_date(V.last_modified),
            V,
            V.last_modified
        ));
    }
}
