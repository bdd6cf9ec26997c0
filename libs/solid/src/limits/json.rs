//! JSON(-LD) scanning: nesting and what expansion may repeat, from raw bytes.

use super::{expanded_too_large, too_deep, Limits};
use crate::error::SolidError;
/// Checks a JSON-LD document before it is parsed: its nesting, and an upper bound of what it
/// expands to. The JSON-LD processor expands whole arrays before it emits a triple, so the
/// bound is taken up front: every value may carry at most the longest string that expansion
/// can repeat (a context definition, an `@id`, `@vocab` or `@base`) plus the base IRI.
/// Remote contexts are not seen here; only operator-allowed ones are ever loaded.
pub fn check_jsonld(body: &[u8], base_len: usize, limits: &Limits) -> Result<(), SolidError> {
    check_json_depth(body, limits.max_depth)?;
    let (values, repeatable) = json_values_and_repeatable(body);
    let bound = (body.len() as u64)
        .saturating_add(values.saturating_mul(repeatable + base_len as u64 + 3 * 32));
    if bound > limits.max_expanded_bytes {
        return Err(expanded_too_large(limits.max_expanded_bytes));
    }
    Ok(())
}

/// The number of values (strings, numbers, literals) and the longest string that expansion
/// may repeat in a JSON document.
fn json_values_and_repeatable(body: &[u8]) -> (u64, u64) {
    const REPEATABLE_KEYS: [&[u8]; 4] = [b"@context", b"@id", b"@vocab", b"@base"];
    // Per open container: whether it is (inside) a context.
    let mut in_context: Vec<bool> = Vec::new();
    let (mut values, mut longest) = (0u64, 0u64);
    let mut last_key: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            b'"' => {
                let end = json_string_end(body, i);
                let next = body[end..].iter().position(|c| !c.is_ascii_whitespace());
                let is_key = next.is_some_and(|k| body[end + k] == b':');
                if is_key {
                    last_key = Some((i + 1, end.saturating_sub(1)));
                } else {
                    values += 1;
                    let key = last_key.map(|(s, e)| &body[s..e.max(s)]);
                    let repeatable = in_context.last().copied().unwrap_or(false)
                        || key.is_some_and(|k| REPEATABLE_KEYS.contains(&k));
                    if repeatable {
                        longest = longest.max((end - i) as u64);
                    }
                }
                i = end;
                continue;
            }
            b'{' | b'[' => {
                let context = in_context.last().copied().unwrap_or(false)
                    || last_key.is_some_and(|(s, e)| &body[s..e.max(s)] == b"@context");
                in_context.push(context);
                if body[i] == b'{' {
                    last_key = None;
                }
            }
            b'}' | b']' => {
                in_context.pop();
            }
            c if c.is_ascii_alphanumeric() || c == b'-' => {
                values += 1;
                let end = i + body[i..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.')))
                    .unwrap_or(body.len() - i);
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    (values, longest)
}

/// The index after the JSON string starting at `start`.
fn json_string_end(body: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < body.len() {
        match body[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    body.len()
}

/// Refuses JSON nested deeper than `max_depth` (objects and arrays), reading bytes only.
pub fn check_json_depth(body: &[u8], max_depth: usize) -> Result<(), SolidError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max_depth {
                    return Err(too_deep(max_depth));
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}
