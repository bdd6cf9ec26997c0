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
pub fn write_conditions(headers: &HeaderMap) -> WriteConditions {
    WriteConditions {
        if_match: header_str(headers, header::IF_MATCH).map(strip_variants),
        if_none_match: header_str(headers, header::IF_NONE_MATCH).map(strip_variants),
        if_unmodified_since: header_str(headers, header::IF_UNMODIFIED_SINCE).map(str::to_owned),
    }
}

/// ETags of alternative RDF representations carry a suffix (`"abc-jsonld"`); a client that
/// read JSON-LD and writes back with that tag means the resource's tag (`"abc"`).
fn strip_variants(list: &str) -> String {
    list.split(',')
        .map(|t| {
            let t = t.trim();
            crate::http::respond::VARIANT_SUFFIXES
                .iter()
                .find_map(|s| {
                    t.strip_suffix(&format!("{s}\""))
                        .map(|base| format!("{base}\""))
                })
                .unwrap_or_else(|| t.to_owned())
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
