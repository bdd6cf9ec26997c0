//! Reading what a request says: conditional headers, media types, Link types, Slug.

use crate::error::{ApiError, ApiResult};
use axum::http::{header, HeaderMap};
use podplane_solid::conneg::media_type_essence;
use podplane_solid::preconditions::{Conditions, WriteConditions};

pub fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub fn conditions(headers: &HeaderMap) -> Conditions<'_> {
    Conditions {
        if_match: header_str(headers, header::IF_MATCH),
        if_none_match: header_str(headers, header::IF_NONE_MATCH),
        if_modified_since: header_str(headers, header::IF_MODIFIED_SINCE),
        if_unmodified_since: header_str(headers, header::IF_UNMODIFIED_SINCE),
    }
}

/// The conditional headers of a write, to be evaluated at commit.
pub fn write_conditions(headers: &HeaderMap, base_tag: &str) -> WriteConditions {
    WriteConditions {
        if_match: header_str(headers, header::IF_MATCH).map(|l| strip_variants(l, base_tag)),
        if_none_match: header_str(headers, header::IF_NONE_MATCH)
            .map(|l| strip_variants(l, base_tag)),
        if_unmodified_since: header_str(headers, header::IF_UNMODIFIED_SINCE).map(str::to_owned),
    }
}

/// ETags of RDF representations carry the base URL's tag and the variant's suffix
/// (`"abc-1f2e3d4c-jsonld"`); a client that read one and writes back with that tag means the
/// resource's tag (`"abc"`). A tag from another base URL is left as it is: it names a
/// representation this server no longer serves, so it matches nothing.
fn strip_variants(list: &str, base_tag: &str) -> String {
    list.split(',')
        .map(|t| {
            let t = t.trim();
            let body = t.strip_suffix('"').unwrap_or(t);
            let body = crate::http::respond::VARIANT_SUFFIXES
                .iter()
                .find_map(|s| body.strip_suffix(s))
                .unwrap_or(body);
            match body.strip_suffix(&format!("-{base_tag}")) {
                Some(stored) if t.ends_with('"') => format!("{stored}\""),
                _ => t.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The request's media type essence; `None` when there is no Content-Type.
pub fn content_type(headers: &HeaderMap) -> ApiResult<Option<String>> {
    match headers.get(header::CONTENT_TYPE) {
        None => Ok(None),
        Some(v) => {
            let s = v
                .to_str()
                .map_err(|_| ApiError::BadRequest("Content-Type is not ASCII".into()))?;
            Ok(Some(media_type_essence(s)?))
        }
    }
}

/// Whether the request carries a body: a non-zero Content-Length or chunked transfer.
pub fn has_body(headers: &HeaderMap) -> bool {
    match header_str(headers, header::CONTENT_LENGTH) {
        Some(len) => len.trim() != "0",
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

pub fn content_length(headers: &HeaderMap) -> Option<u64> {
    header_str(headers, header::CONTENT_LENGTH).and_then(|v| v.trim().parse().ok())
}

/// The `rel="type"` targets of the request's Link headers.
pub fn link_types(headers: &HeaderMap) -> Vec<String> {
    podplane_solid::headers::requested_types(
        headers
            .get_all(header::LINK)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
}
