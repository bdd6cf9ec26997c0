//! Pod names: what a pod may be called, whoever names it (an operator on the command line, an
//! app through the provisioning API's `Slug`, or the server minting one).
//!
//! A name becomes the first path segment of every IRI in the pod and, should pods ever be
//! served by host, a DNS label: so 1–63 lower-case letters, digits and `-`, not starting or
//! ending with `-`, and none of the server's own first segments. This module must not mint
//! names (it has no randomness): callers pass candidates in.

use crate::SolidError;

/// First path segments the server keeps for itself; a pod of that name would hide them.
const RESERVED: &[&str] = &["health", "metrics"];

/// Checks a pod name as given (no normalisation: an operator's name is taken literally).
pub fn check_name(name: &str) -> Result<(), SolidError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !RESERVED.contains(&name);
    if ok {
        Ok(())
    } else {
        Err(SolidError::BadRequest(format!(
            "invalid pod name {name:?}: use 1-63 lower-case letters, digits and '-', not \
             starting or ending with '-' (and not {})",
            RESERVED.join(" or ")
        )))
    }
}

/// The pod name a `Slug` header asks for. The header is percent-encoded UTF-8 (RFC 5023
/// §9.7) and apps send display names ("Alice's Pod"), so it is decoded, case is folded and
/// runs of other characters become one `-`; what remains must be a valid name.
/// Unlike a resource `Slug`, a pod name is never silently replaced by another: the caller
/// asked for this one.
pub fn name_from_slug(slug: &str) -> Result<String, SolidError> {
    let decoded = percent_encoding::percent_decode_str(slug).decode_utf8_lossy();
    let mut name = String::new();
    for c in decoded.trim().chars() {
        match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => name.push(c),
            _ if !name.is_empty() && !name.ends_with('-') => name.push('-'),
            _ => {}
        }
    }
    let name = name.trim_end_matches('-').to_owned();
    check_name(&name).map_err(|_| {
        SolidError::BadRequest(format!(
            "the Slug {slug:?} makes no valid pod name: use 1-63 letters, digits and '-'"
        ))
    })?;
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_label_names_are_valid() {
        for ok in ["alice", "a", "pod-2", "0abc", &"x".repeat(63)] {
            assert_eq!(check_name(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn names_that_are_not_dns_labels_or_are_reserved_are_refused() {
        for bad in [
            "",
            "-a",
            "a-",
            "Alice",
            "a_b",
            "a.b",
            "a/b",
            "é",
            "health",
            "metrics",
            &"x".repeat(64),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn slugs_fold_to_names() {
        assert_eq!(name_from_slug("alice").unwrap(), "alice");
        assert_eq!(name_from_slug("Alice's Pod").unwrap(), "alice-s-pod");
        assert_eq!(name_from_slug("  Work  2026 ").unwrap(), "work-2026");
        assert_eq!(name_from_slug("--x--").unwrap(), "x");
        assert_eq!(name_from_slug("Bob%27s%20Pod").unwrap(), "bob-s-pod");
    }

    #[test]
    fn slugs_that_leave_no_valid_name_are_refused() {
        for bad in ["", "   ", "---", "ééé", "health", &"y".repeat(64)] {
            assert!(name_from_slug(bad).is_err(), "{bad:?}");
        }
    }
}
