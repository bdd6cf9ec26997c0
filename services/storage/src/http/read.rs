//! GET, HEAD and OPTIONS on resources.

use super::request::{conditions, header_str};
use super::respond::{kind_of, representation_etag, resource_headers, set, validator_headers};
use super::ResourceRequest;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use podplane_solid::conneg::negotiate;
use podplane_solid::container::{self, describe, Member};
use podplane_solid::headers::ResourceKind;
use podplane_solid::path::ResourcePath;
use podplane_solid::preconditions::{self, if_range_holds, Outcome, Validators};
use podplane_solid::range::{self, RangeAnswer};
use podplane_solid::rdf::{self, RdfFormat};
use podplane_store::{ByteStream, Content, Kind, Resource};

/// GET and HEAD. The target's row is the one authorization read, when it read one.
pub async fn get(state: &AppState, req: ResourceRequest) -> ApiResult<Response> {
    let ResourceRequest {
        path,
        method,
        headers,
        mut grant,
        ..
    } = req;
    let (path, headers) = (&path, &headers);
    let with_body = method != Method::HEAD;
    if path.is_root() {
        return Err(ApiError::NotFound(
            "the server root is not a resource; pods live at /{name}/".into(),
        ));
    }
    let stored = grant.take_row(state, path).await?;
    let found = match super::acr_view::shown(state, path, stored.as_ref()).await? {
        Some(acr) => Some(acr),
        None => stored,
    };
    let Some(res) = found else {
        return missing(state, path).await;
    };
    let owner = pod_owner(state, path).await?;
    let mut h = resource_headers(state, path, kind_of(res.kind), owner.as_deref());
    match res.kind {
        Kind::Container | Kind::Rdf => {
            let media = negotiate(header_str(headers, header::ACCEPT), &RdfFormat::MEDIA_TYPES)?;
            let format = RdfFormat::from_media_type(media).unwrap_or(RdfFormat::Turtle);
            validator_headers(state, &mut h, &res, Some(format));
            set(&mut h, header::VARY, "Accept");
            if let Some(early) = check_read_preconditions(state, headers, &res, Some(format), &h) {
                return Ok(early);
            }
            let bytes = render_rdf(state, path, &res, format).await?;
            set(&mut h, header::CONTENT_TYPE, format.media_type());
            set(&mut h, header::CONTENT_LENGTH, &bytes.len().to_string());
            let body = if with_body {
                Body::from(bytes)
            } else {
                Body::empty()
            };
            Ok((StatusCode::OK, h, body).into_response())
        }
        Kind::Binary => {
            negotiate(
                header_str(headers, header::ACCEPT),
                &[res.content_type.as_str()],
            )?;
            validator_headers(state, &mut h, &res, None);
            set(&mut h, header::ACCEPT_RANGES, "bytes");
            set(&mut h, header::CONTENT_TYPE, &res.content_type);
            if let Some(early) = check_read_preconditions(state, headers, &res, None, &h) {
                return Ok(early);
            }
            serve_binary(state, &res, headers, h, with_body).await
        }
    }
}

/// 404, or 301 to the other slash form when that one exists (server-uri-redirect-differing).
async fn missing(state: &AppState, path: &ResourcePath) -> ApiResult<Response> {
    match redirect_to_twin(state, path).await? {
        Some(redirect) => Ok(redirect),
        None => Err(ApiError::NotFound(format!("no resource at {path}"))),
    }
}

/// A 301 to the other slash form of `path`, when that one exists. DELETE answers with it too
/// (as ESS does), so a client that dropped a container's trailing slash is sent to the
/// container instead of told it does not exist.
pub(super) async fn redirect_to_twin(
    state: &AppState,
    path: &ResourcePath,
) -> ApiResult<Option<Response>> {
    let Some(twin) = path.toggled_slash() else {
        return Ok(None);
    };
    if state.meta.get(twin.as_str()).await?.is_none() {
        return Ok(None);
    }
    let mut h = HeaderMap::new();
    set(&mut h, header::LOCATION, &state.iri(twin.as_str()));
    Ok(Some((StatusCode::MOVED_PERMANENTLY, h).into_response()))
}

async fn pod_owner(state: &AppState, path: &ResourcePath) -> ApiResult<Option<String>> {
    if !path.is_pod_root() {
        return Ok(None);
    }
    let name = path.pod().unwrap_or_default();
    Ok(state.meta.get_pod(name).await?.and_then(|p| p.owner))
}

/// 304 or 412 when the conditions say so; the 304 keeps the validators (RFC 9110 §15.4.5).
fn check_read_preconditions(
    state: &AppState,
    headers: &HeaderMap,
    res: &Resource,
    format: Option<RdfFormat>,
    h: &HeaderMap,
) -> Option<Response> {
    let etag = representation_etag(&res.etag, format, &state.base_tag);
    let current = Validators {
        etag: &etag,
        last_modified: res.modified_ms / 1000,
    };
    match preconditions::evaluate(&conditions(headers), Some(current), true) {
        Outcome::Proceed => None,
        Outcome::PreconditionFailed => Some(ApiError::PreconditionFailed.into_response()),
        Outcome::NotModified => {
            let mut keep = HeaderMap::new();
            for name in [header::ETAG, header::LAST_MODIFIED, header::VARY] {
                if let Some(v) = h.get(&name) {
                    keep.insert(name, v.clone());
                }
            }
            Some((StatusCode::NOT_MODIFIED, keep).into_response())
        }
    }
}

/// The full bytes of a stored RDF document (inline or blob).
async fn stored_bytes(state: &AppState, res: &Resource) -> ApiResult<Bytes> {
    Ok(podplane_store::read_content(state.blobs.as_ref(), &res.content).await?)
}

/// The client-written triples of an RDF document or container, as stored (Turtle).
pub async fn stored_triples(state: &AppState, res: &Resource) -> ApiResult<Vec<oxrdf::Triple>> {
    let bytes = stored_bytes(state, res).await?;
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let base = state.iri(&res.path);
    let limits = state.config.stored_limits();
    rdf::parse(&bytes, RdfFormat::Turtle, &base, None, &limits).map_err(|e| {
        ApiError::Internal(format!("stored document {} does not parse: {e}", res.path))
    })
}

async fn render_rdf(
    state: &AppState,
    path: &ResourcePath,
    res: &Resource,
    format: RdfFormat,
) -> ApiResult<Bytes> {
    let iri = state.iri(path.as_str());
    // Stored documents name the server's own IRIs relative to themselves (`rebase`): even
    // Turtle is rendered, so every representation names the base URL served now.
    // Every version of a resource has its own ETag (a container's changes whenever a member
    // does), so a rendering keyed by path, ETag and format can never be stale, here or on
    // another replica.
    let key = (
        path.as_str().to_owned(),
        res.etag.clone(),
        format.media_type(),
    );
    if let Some(hit) = state.rendered.get(&key) {
        return Ok(hit);
    }
    let mut triples = stored_triples(state, res).await?;
    if res.kind == Kind::Container {
        let members: Vec<Member> = state
            .meta
            .children(path.as_str())
            .await?
            .into_iter()
            .map(|c| Member {
                iri: state.iri(&c.path),
                is_container: c.kind == Kind::Container,
                modified_ms: c.modified_ms,
                size: c.size,
                content_type: (c.kind != Kind::Container).then_some(c.content_type),
            })
            .collect();
        if format == RdfFormat::Turtle {
            // Listings are the biggest generated documents: write them as text directly.
            let mut text = String::from_utf8(rdf::serialize(&triples, format)).unwrap_or_default();
            container::write_turtle(
                &mut text,
                &iri,
                path.is_pod_root(),
                res.modified_ms,
                &members,
            );
            let bytes = Bytes::from(text);
            state.rendered.insert(key, bytes.clone());
            return Ok(bytes);
        }
        triples.extend(describe(
            &iri,
            path.is_pod_root(),
            res.modified_ms,
            &members,
        ));
    }
    let bytes = Bytes::from(rdf::serialize(&triples, format));
    state.rendered.insert(key, bytes.clone());
    Ok(bytes)
}

async fn serve_binary(
    state: &AppState,
    res: &Resource,
    headers: &HeaderMap,
    mut h: HeaderMap,
    with_body: bool,
) -> ApiResult<Response> {
    let Content::Blob(key) = &res.content else {
        return Err(ApiError::Internal(format!(
            "binary resource {} has no blob",
            res.path
        )));
    };
    let range_header = header_str(headers, header::RANGE).filter(|_| {
        header_str(headers, header::IF_RANGE)
            .is_none_or(|v| if_range_holds(v, res.validators(), podplane_store::now_ms() / 1000))
    });
    let ranges = match range::evaluate(range_header, res.size)? {
        RangeAnswer::Full => {
            set(&mut h, header::CONTENT_LENGTH, &res.size.to_string());
            let body = if with_body {
                Body::from_stream(state.blobs.get(key, None).await?)
            } else {
                Body::empty()
            };
            return Ok((StatusCode::OK, h, body).into_response());
        }
        RangeAnswer::Partial(ranges) => ranges,
    };
    if let [only] = ranges.as_slice() {
        set(
            &mut h,
            header::CONTENT_RANGE,
            &format!("bytes {}-{}/{}", only.start(), only.end(), res.size),
        );
        set(
            &mut h,
            header::CONTENT_LENGTH,
            &(only.end() - only.start() + 1).to_string(),
        );
        let body = if with_body {
            Body::from_stream(state.blobs.get(key, Some(only.clone())).await?)
        } else {
            Body::empty()
        };
        return Ok((StatusCode::PARTIAL_CONTENT, h, body).into_response());
    }
    // Several ranges: multipart/byteranges (RFC 9110 §14.6).
    let boundary = uuid::Uuid::new_v4().simple().to_string();
    let mut parts: Vec<ByteStream> = Vec::new();
    let mut length: u64 = 0;
    for r in &ranges {
        let head = format!(
            "\r\n--{boundary}\r\nContent-Type: {}\r\nContent-Range: bytes {}-{}/{}\r\n\r\n",
            res.content_type,
            r.start(),
            r.end(),
            res.size
        );
        length += head.len() as u64 + (r.end() - r.start() + 1);
        parts.push(futures_util::stream::once(async move { Ok(Bytes::from(head)) }).boxed());
        if with_body {
            parts.push(state.blobs.get(key, Some(r.clone())).await?);
        }
    }
    let tail = format!("\r\n--{boundary}--\r\n");
    length += tail.len() as u64;
    parts.push(futures_util::stream::once(async move { Ok(Bytes::from(tail)) }).boxed());
    set(
        &mut h,
        header::CONTENT_TYPE,
        &format!("multipart/byteranges; boundary={boundary}"),
    );
    set(&mut h, header::CONTENT_LENGTH, &length.to_string());
    let body = if with_body {
        Body::from_stream(futures_util::stream::iter(parts).flatten())
    } else {
        Body::empty()
    };
    Ok((StatusCode::PARTIAL_CONTENT, h, body).into_response())
}

/// OPTIONS. To a requester who may not read the resource the answer is the one for a
/// resource that does not exist: its headers would otherwise tell whether (and what) it is.
pub async fn options(state: &AppState, path: &ResourcePath, reveal: bool) -> ApiResult<Response> {
    if path.is_root() {
        let mut h = HeaderMap::new();
        set(&mut h, header::ALLOW, "OPTIONS");
        return Ok((StatusCode::NO_CONTENT, h).into_response());
    }
    let stored = if reveal {
        state.meta.get(path.as_str()).await?
    } else {
        None
    };
    let kind = match stored {
        Some(r) => kind_of(r.kind),
        None if path.is_container() => ResourceKind::Container,
        None => ResourceKind::RdfSource,
    };
    let owner = if reveal {
        pod_owner(state, path).await?
    } else {
        None
    };
    let mut h = resource_headers(state, path, kind, owner.as_deref());
    set(&mut h, HeaderName::from_static("accept-ranges"), "bytes");
    Ok((StatusCode::NO_CONTENT, h).into_response())
}
