//! PUT and POST: stage the new content, then switch the metadata in one transaction.
//!
//! Content is staged first (streamed to a new blob, or parsed RDF kept inline) and committed
//! with a compare-and-swap against the state the preconditions were checked on. If another
//! writer got there first, the preconditions are checked again on the new state; the staged
//! content is discarded whenever the write does not happen.

use super::body;
use super::request::{
    check_write_preconditions, content_length, content_type, has_body, link_types,
};
use super::respond::set;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use podplane_solid::container::check_client_triples;
use podplane_solid::path::{sanitize_slug, ResourcePath};
use podplane_solid::rdf::{self, RdfFormat};
use podplane_solid::{vocab, SolidError};
use podplane_store::{Content, Kind, Resource, StoreError, WriteRequest};

/// How many times a write retries after losing a compare-and-swap race.
const CAS_ATTEMPTS: usize = 8;

/// Content ready to be committed.
pub struct Staged {
    pub kind: Kind,
    pub content_type: String,
    pub content: Content,
    pub size: u64,
}

impl Staged {
    /// Removes a staged blob that will never be committed.
    pub async fn discard(self, state: &AppState) {
        if let Content::Blob(key) = &self.content {
            if let Err(e) = state.blobs.delete(key).await {
                tracing::warn!(%key, error = %e, "could not remove an uncommitted blob; GC will");
                return;
            }
            let _ = state.meta.drop_pending_blob(key).await;
        }
    }
}

pub async fn put(state: &AppState, path: ResourcePath, req: Request) -> ApiResult<Response> {
    if path.is_root() {
        return Err(ApiError::MethodNotAllowed {
            detail: "the server root cannot be written".into(),
            allow: "OPTIONS",
        });
    }
    let (parts, body) = req.into_parts();
    let wants_container = link_types(&parts.headers)
        .iter()
        .any(|t| t == vocab::LDP_BASIC_CONTAINER || t == vocab::LDP_CONTAINER);
    if wants_container && !path.is_container() {
        return Err(ApiError::Conflict(
            "a container's IRI must end with '/'".into(),
        ));
    }
    // Refuse before reading the body when the answer cannot be yes.
    let current = state.meta.get(path.as_str()).await?;
    check_write_preconditions(&parts.headers, current.as_ref())?;
    if current.is_none() {
        if let Some(twin) = path.toggled_slash() {
            if state.meta.get(twin.as_str()).await?.is_some() {
                return Err(ApiError::Conflict(format!(
                    "{twin} exists; {path} cannot exist beside it"
                )));
            }
        }
    }
    let staged = stage(state, &path, &parts.headers, body).await?;
    let (resource, created) = commit(state, &path, &parts.headers, staged, true, false).await?;
    Ok(written(state, &resource, created))
}

pub async fn post(state: &AppState, container: ResourcePath, req: Request) -> ApiResult<Response> {
    let target = state.meta.get(container.as_str()).await?;
    match target {
        None => return Err(ApiError::NotFound(format!("no container at {container}"))),
        Some(r) if r.kind != Kind::Container => {
            return Err(ApiError::MethodNotAllowed {
                detail: "POST is only allowed on containers".into(),
                allow: podplane_solid::headers::allow(super::respond::kind_of(r.kind), false),
            });
        }
        Some(_) => {}
    }
    let (parts, body) = req.into_parts();
    let wants_container = link_types(&parts.headers)
        .iter()
        .any(|t| t == vocab::LDP_BASIC_CONTAINER || t == vocab::LDP_CONTAINER);
    let slug = parts
        .headers
        .get("slug")
        .and_then(|v| v.to_str().ok())
        .and_then(sanitize_slug);
    let path = free_child(state, &container, slug, wants_container).await?;
    let staged = stage(state, &path, &parts.headers, body).await?;
    let (resource, _) = commit(state, &path, &parts.headers, staged, false, true).await?;
    Ok(written(state, &resource, true))
}

/// A child name not taken in either slash form: the slug if free, else the slug with a random
/// suffix, else a random name.
async fn free_child(
    state: &AppState,
    container: &ResourcePath,
    slug: Option<String>,
    is_container: bool,
) -> ApiResult<ResourcePath> {
    let random = || uuid::Uuid::new_v4().simple().to_string();
    let mut candidates = Vec::new();
    if let Some(s) = &slug {
        candidates.push(s.clone());
        candidates.push(format!("{s}-{}", &random()[..8]));
    }
    candidates.push(random());
    for name in candidates {
        let path = container.child(&name, is_container)?;
        let twin = path
            .toggled_slash()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default();
        if state.meta.get(path.as_str()).await?.is_none() && state.meta.get(&twin).await?.is_none()
        {
            return Ok(path);
        }
    }
    Err(ApiError::Conflict(
        "could not find a free name; retry".into(),
    ))
}

fn written(state: &AppState, resource: &Resource, created: bool) -> Response {
    let mut h = HeaderMap::new();
    set(&mut h, header::ETAG, &resource.etag);
    if created {
        set(&mut h, header::LOCATION, &state.iri(&resource.path));
        (StatusCode::CREATED, h).into_response()
    } else {
        (StatusCode::NO_CONTENT, h).into_response()
    }
}

/// Turns a request body into committable content for `path`.
pub async fn stage(
    state: &AppState,
    path: &ResourcePath,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<Staged> {
    let media = content_type(headers)?;
    let with_body = has_body(headers);
    if with_body && media.is_none() {
        return Err(ApiError::BadRequest(
            "a request with content needs a Content-Type".into(),
        ));
    }
    let format = media.as_deref().and_then(RdfFormat::from_media_type);
    if path.is_container() {
        if !with_body {
            return Ok(Staged {
                kind: Kind::Container,
                content_type: "text/turtle".into(),
                content: Content::Empty,
                size: 0,
            });
        }
        let Some(format) = format else {
            return Err(SolidError::UnsupportedMediaType(format!(
                "containers hold RDF; send one of {}",
                RdfFormat::MEDIA_TYPES.join(", ")
            ))
            .into());
        };
        let triples = parse_body(state, path, headers, body, format).await?;
        check_client_triples(&state.iri(path.as_str()), &triples)?;
        return stage_rdf(state, Kind::Container, &triples).await;
    }
    if let Some(format) = format {
        let triples = parse_body(state, path, headers, body, format).await?;
        return stage_rdf(state, Kind::Rdf, &triples).await;
    }
    let media = media.unwrap_or_else(|| "application/octet-stream".into());
    let limit = state.config.max_body_bytes;
    if content_length(headers).is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let (key, size) = put_blob(state, body::stream(body), limit).await?;
    Ok(Staged {
        kind: Kind::Binary,
        content_type: media,
        content: Content::Blob(key),
        size,
    })
}

async fn put_blob(
    state: &AppState,
    stream: podplane_store::ByteStream,
    limit: u64,
) -> ApiResult<(String, u64)> {
    let key = uuid::Uuid::now_v7().simple().to_string();
    state.meta.register_pending_blob(&key).await?;
    match state.blobs.put(&key, stream, limit).await {
        Ok(size) => Ok((key, size)),
        Err(e) => {
            let _ = state.meta.drop_pending_blob(&key).await;
            Err(match e {
                StoreError::TooLarge { limit } => ApiError::PayloadTooLarge(limit),
                other => other.into(),
            })
        }
    }
}

async fn parse_body(
    state: &AppState,
    path: &ResourcePath,
    headers: &HeaderMap,
    body: Body,
    format: RdfFormat,
) -> ApiResult<Vec<oxrdf::Triple>> {
    let limit = state.config.max_rdf_bytes;
    if content_length(headers).is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let bytes = body::read_limited(body, limit).await?;
    parse_rdf(state, path, bytes, format).await
}

/// Parses off the async runtime: parsing is CPU work and JSON-LD context loading blocks.
pub async fn parse_rdf(
    state: &AppState,
    path: &ResourcePath,
    bytes: Bytes,
    format: RdfFormat,
) -> ApiResult<Vec<oxrdf::Triple>> {
    let base = state.iri(path.as_str());
    let loader = (format == RdfFormat::JsonLd).then(|| state.contexts.loader());
    tokio::task::spawn_blocking(move || rdf::parse(&bytes, format, &base, loader))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::from)
}

/// Stores triples as canonical Turtle: inline when small, as a blob otherwise.
pub async fn stage_rdf(
    state: &AppState,
    kind: Kind,
    triples: &[oxrdf::Triple],
) -> ApiResult<Staged> {
    if kind == Kind::Container && triples.is_empty() {
        return Ok(Staged {
            kind,
            content_type: "text/turtle".into(),
            content: Content::Empty,
            size: 0,
        });
    }
    let bytes = rdf::serialize(triples, RdfFormat::Turtle);
    let size = bytes.len() as u64;
    let content = if size <= state.config.inline_rdf_bytes {
        Content::Inline(bytes)
    } else {
        let stream = futures_util::stream::once(async move { Ok(Bytes::from(bytes)) }).boxed();
        Content::Blob(put_blob(state, stream, u64::MAX).await?.0)
    };
    Ok(Staged {
        kind,
        content_type: "text/turtle".into(),
        content,
        size,
    })
}

/// Commits staged content with compare-and-swap, re-checking preconditions after a lost race.
/// The staged blob is removed if the write does not happen.
pub async fn commit(
    state: &AppState,
    path: &ResourcePath,
    headers: &HeaderMap,
    staged: Staged,
    create_ancestors: bool,
    must_not_exist: bool,
) -> ApiResult<(Resource, bool)> {
    let result = try_commit(
        state,
        path,
        headers,
        &staged,
        create_ancestors,
        must_not_exist,
    )
    .await;
    if result.is_err() {
        staged.discard(state).await;
    }
    result
}

async fn try_commit(
    state: &AppState,
    path: &ResourcePath,
    headers: &HeaderMap,
    staged: &Staged,
    create_ancestors: bool,
    must_not_exist: bool,
) -> ApiResult<(Resource, bool)> {
    for _ in 0..CAS_ATTEMPTS {
        let current = state.meta.get(path.as_str()).await?;
        check_write_preconditions(headers, current.as_ref())?;
        if must_not_exist && current.is_some() {
            return Err(ApiError::Conflict(format!(
                "{path} was created concurrently; retry"
            )));
        }
        let req = WriteRequest {
            path: path.clone(),
            kind: staged.kind,
            content_type: staged.content_type.clone(),
            content: staged.content.clone(),
            size: staged.size,
            expected: Some(current.map(|c| c.etag)),
            create_ancestors,
            actor: None,
        };
        match state.meta.write(req).await {
            Ok(done) => {
                state.outbox_wake.notify_one();
                return Ok(done);
            }
            Err(StoreError::Changed) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Conflict(
        "the resource is being changed by others; retry".into(),
    ))
}
