//! PUT and POST: stage the new content, then switch the metadata in one transaction.
//!
//! Content is staged first (streamed to a new blob, or parsed RDF kept inline) and committed
//! by one store call that checks the preconditions and the create-or-replace decision against
//! the row as it is at commit; the staged content is discarded whenever the write does not
//! happen.

use super::body;
use super::request::{content_length, content_type, has_body, link_types, write_conditions};
use super::respond::{representation_etag, set};
use super::ResourceRequest;
use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use podplane_events::Audited;
use podplane_solid::access::Operation;
use podplane_solid::container::check_client_triples;
use podplane_solid::path::{sanitize_slug, ResourcePath};
use podplane_solid::rdf::{self, RdfFormat};
use podplane_solid::{rebase, vocab, SolidError};
use podplane_store::{
    check_room, effective_quota, Content, Expect, Kind, Resource, StoreError, WriteRequest,
};

/// Content ready to be committed.
pub struct Staged {
    pub kind: Kind,
    pub content_type: String,
    pub content: Content,
    pub size: u64,
}

impl Staged {
    /// The write that commits this content at `path` (creating missing ancestors) if
    /// `expect` holds then, on behalf of `by` (audited with the write).
    pub fn request(&self, path: &ResourcePath, expect: Expect, by: &Audited) -> WriteRequest {
        WriteRequest {
            path: path.clone(),
            kind: self.kind,
            content_type: self.content_type.clone(),
            content: self.content.clone(),
            size: self.size,
            expect,
            create_ancestors: true,
            auxiliary_of: path.auxiliary_subject(),
            actor: by.webid.clone(),
            audit: Some(by.clone()),
            // Set from the configuration by `Services::write`.
            default_quota: None,
        }
    }

    /// Removes a staged blob that will never be committed.
    pub async fn discard(&self, state: &AppState) {
        if let Content::Blob(key) = &self.content {
            discard_blob(state, key).await;
        }
    }
}

pub async fn put(state: &AppState, req: ResourceRequest) -> ApiResult<Response> {
    let ResourceRequest {
        path,
        headers,
        body,
        mut grant,
        ..
    } = req;
    if path.is_root() {
        return Err(ApiError::MethodNotAllowed {
            detail: "the server root cannot be written".into(),
            allow: "OPTIONS",
        });
    }
    if wants_container(&headers) && !path.is_container() {
        return Err(ApiError::Conflict(
            "a container's IRI must end with '/'".into(),
        ));
    }
    let op = |exists| Operation::Put { exists };
    let expect = Expect {
        allowed: grant.allowed(&path, op),
        conditions: write_conditions(&headers, &state.base_tag),
        unchanged: None,
    };
    // Refuse before reading the body when the answer cannot be yes (the commit checks again).
    let current = grant.take_row(state, &path).await?;
    let expect = super::acr_view::judged_as_shown(state, &path, current.as_ref(), expect).await?;
    expect
        .check(current.as_ref())
        .map_err(|e| grant.explain(state, &path, op, e))?;
    refuse_what_cannot_fit(state, &path, &headers).await?;
    let incoming = receive(state, &headers, body, path.is_container()).await?;
    if path.auxiliary_subject().is_some() && !matches!(incoming, Incoming::Rdf { .. }) {
        incoming.discard(state).await;
        return Err(
            SolidError::UnsupportedMediaType("a description resource holds RDF".into()).into(),
        );
    }
    let result = async {
        let staged = materialize(state, &path, &incoming).await?;
        let done = state
            .write(staged.request(&path, expect, &grant.audited()))
            .await
            .map_err(|e| grant.explain(state, &path, op, e));
        if done.is_err() {
            staged.discard(state).await;
        }
        done
    }
    .await;
    match result {
        Ok((resource, created)) => Ok(written(state, &resource, created)),
        Err(e) => {
            incoming.discard(state).await;
            Err(e)
        }
    }
}

pub async fn post(state: &AppState, req: ResourceRequest) -> ApiResult<Response> {
    let ResourceRequest {
        path: container,
        headers,
        body,
        mut grant,
        ..
    } = req;
    let row = grant.take_row(state, &container).await?;
    match row {
        None => return Err(ApiError::NotFound(format!("no container at {container}"))),
        Some(r) if r.kind != Kind::Container => {
            return Err(ApiError::MethodNotAllowed {
                detail: "POST is only allowed on containers".into(),
                allow: podplane_solid::headers::allow(super::respond::kind_of(r.kind), false),
            });
        }
        Some(_) => {}
    }
    let as_container = wants_container(&headers);
    let slug = headers
        .get("slug")
        .and_then(|v| v.to_str().ok())
        .and_then(sanitize_slug);
    refuse_what_cannot_fit(state, &container, &headers).await?;
    let incoming = receive(state, &headers, body, as_container).await?;
    let by = grant.audited();
    let result = create_child(state, &container, slug, as_container, &incoming, &by).await;
    if result.is_err() {
        incoming.discard(state).await;
    }
    Ok(written(state, &result?, true))
}

fn wants_container(headers: &HeaderMap) -> bool {
    link_types(headers)
        .iter()
        .any(|t| t == vocab::LDP_BASIC_CONTAINER || t == vocab::LDP_CONTAINER)
}

/// Creates a new member of `container` named after the slug when it is free, else after the
/// slug plus a random suffix, else a random name. Two clients posting the same slug at once
/// both succeed: the loser of the race just moves on to the next name.
async fn create_child(
    state: &AppState,
    container: &ResourcePath,
    slug: Option<String>,
    as_container: bool,
    incoming: &Incoming,
    by: &Audited,
) -> ApiResult<Resource> {
    let random = || uuid::Uuid::new_v4().simple().to_string();
    let mut names = Vec::new();
    if let Some(s) = &slug {
        names.push(s.clone());
        names.extend((0..4).map(|_| format!("{s}-{}", &random()[..8])));
    }
    names.push(random());
    for name in names {
        let path = container.child(&name, as_container)?;
        if path.auxiliary_subject().is_some() {
            // Names with an auxiliary suffix are reserved; the next candidate has a suffix.
            continue;
        }
        let staged = materialize(state, &path, incoming).await?;
        // The container exists; if it vanishes meanwhile, fail rather than recreate it.
        let req = WriteRequest {
            create_ancestors: false,
            ..staged.request(&path, Expect::absent(), by)
        };
        match state.write(req).await {
            Ok((resource, _)) => return Ok(resource),
            Err(StoreError::Changed | StoreError::Conflict(_)) => {
                // Taken (or its slash twin is). A binary body's blob is the incoming one and
                // is reused for the next name; only content staged for this name is dropped.
                if matches!(incoming, Incoming::Rdf { .. }) {
                    staged.discard(state).await;
                }
            }
            Err(e) => {
                staged.discard(state).await;
                return Err(e.into());
            }
        }
    }
    Err(ApiError::Conflict(
        "could not find a free name; retry".into(),
    ))
}

fn written(state: &AppState, resource: &Resource, created: bool) -> Response {
    let mut h = HeaderMap::new();
    // RFC 9110 §9.3.4: a validator may only accompany a PUT response when the body was stored
    // as sent. RDF is re-serialised, so only non-RDF content gets its ETag back.
    if resource.kind == Kind::Binary {
        set(
            &mut h,
            header::ETAG,
            &representation_etag(&resource.etag, None, ""),
        );
    }
    if created {
        set(&mut h, header::LOCATION, &state.iri(&resource.path));
        (StatusCode::CREATED, h).into_response()
    } else {
        (StatusCode::NO_CONTENT, h).into_response()
    }
}

/// A request body as received, before it is tied to a name: RDF is kept as bytes (relative
/// IRIs resolve against the final name), anything else is already streamed to a new blob.
pub enum Incoming {
    /// A container with no content.
    Empty,
    Rdf {
        bytes: Bytes,
        format: RdfFormat,
    },
    Binary {
        media: String,
        key: String,
        size: u64,
    },
}

impl Incoming {
    pub async fn discard(&self, state: &AppState) {
        if let Incoming::Binary { key, .. } = self {
            discard_blob(state, key).await;
        }
    }
}

async fn discard_blob(state: &AppState, key: &str) {
    if let Err(e) = state.blobs.delete(key).await {
        tracing::warn!(%key, error = %e, "could not remove an uncommitted blob; GC will");
        return;
    }
    let _ = state.meta.drop_pending_blob(key).await;
}

/// Bodies at least this large are weighed against the pod's quota before they stream (one
/// more read of the pod row; for smaller ones the commit's count answers soon enough).
const WEIGH_FROM_BYTES: u64 = 256 * 1024;

/// A large upload that cannot fit in the pod's quota is refused before a byte of it is read,
/// rather than streamed to the blob store only to be refused at commit. (The commit counts
/// exactly, whatever this says: this is only the early answer for a `Content-Length` that
/// alone exceeds what is left.)
async fn refuse_what_cannot_fit(
    state: &AppState,
    path: &ResourcePath,
    headers: &HeaderMap,
) -> ApiResult<()> {
    let Some(length) = content_length(headers).filter(|n| *n >= WEIGH_FROM_BYTES) else {
        return Ok(());
    };
    let Some(pod) = path.pod() else {
        return Ok(());
    };
    let Some(pod) = state.meta.get_pod(pod).await? else {
        return Ok(());
    };
    let quota = effective_quota(pod.quota_bytes, state.config.default_quota_bytes);
    let used = u64::try_from(pod.used_bytes).unwrap_or(0);
    Ok(check_room(used, length, quota)?)
}

/// Reads the body: RDF into memory (bounded), other content to a new blob (streamed).
pub async fn receive(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    for_container: bool,
) -> ApiResult<Incoming> {
    let media = content_type(headers)?;
    let with_body = has_body(headers);
    if with_body && media.is_none() {
        return Err(ApiError::BadRequest(
            "a request with content needs a Content-Type".into(),
        ));
    }
    if let Some(format) = media.as_deref().and_then(RdfFormat::from_media_type) {
        let limit = state.config.max_rdf_bytes;
        if content_length(headers).is_some_and(|n| n > limit) {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        let bytes = body::read_limited(body, limit).await?;
        return Ok(Incoming::Rdf { bytes, format });
    }
    if for_container {
        if with_body {
            return Err(SolidError::UnsupportedMediaType(format!(
                "containers hold RDF; send one of {}",
                RdfFormat::MEDIA_TYPES.join(", ")
            ))
            .into());
        }
        return Ok(Incoming::Empty);
    }
    let media = media.unwrap_or_else(|| "application/octet-stream".into());
    let limit = state.config.max_body_bytes;
    if content_length(headers).is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let (key, size) = put_blob(state, body::stream(body), limit).await?;
    Ok(Incoming::Binary { media, key, size })
}

/// Ties received content to `path`: parses RDF against it and checks container rules.
pub async fn materialize(
    state: &AppState,
    path: &ResourcePath,
    incoming: &Incoming,
) -> ApiResult<Staged> {
    let kind = if path.is_container() {
        Kind::Container
    } else {
        Kind::Rdf
    };
    match incoming {
        Incoming::Empty => stage_rdf(state, path, Kind::Container, &[]).await,
        Incoming::Rdf { bytes, format } => {
            let triples = parse_rdf(state, path, bytes.clone(), *format).await?;
            let triples = super::acr_view::as_stored(state, path, triples).await?;
            if kind == Kind::Container {
                check_client_triples(&state.iri(path.as_str()), &triples)?;
            }
            stage_rdf(state, path, kind, &triples).await
        }
        Incoming::Binary { media, key, size } => Ok(Staged {
            kind: Kind::Binary,
            content_type: media.clone(),
            content: Content::Blob(key.clone()),
            size: *size,
        }),
    }
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
                StoreError::BodyFailed(m) => body::failed(m),
                other => other.into(),
            })
        }
    }
}

/// Parses in the CPU pool, within the configured limits: parsing is CPU work and JSON-LD
/// context loading blocks.
pub async fn parse_rdf(
    state: &AppState,
    path: &ResourcePath,
    bytes: Bytes,
    format: RdfFormat,
) -> ApiResult<Vec<oxrdf::Triple>> {
    let base = state.iri(path.as_str());
    let loader = (format == RdfFormat::JsonLd).then(|| state.contexts.loader());
    let limits = state.config.limits;
    state
        .cpu
        .run(move || rdf::parse(&bytes, format, &base, loader, &limits))
        .await?
        .map_err(ApiError::from)
}

/// Stores triples as canonical Turtle, the server's own IRIs relative to the document (so
/// the bytes hold under any base URL): inline when small, as a blob otherwise.
pub async fn stage_rdf(
    state: &AppState,
    path: &ResourcePath,
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
    let bytes = rebase::stored_turtle(triples, path.as_str(), &[state.root()]);
    stage_turtle(state, kind, bytes).await
}

/// Stores a document's Turtle: inline when small, as a blob otherwise.
pub async fn stage_turtle(state: &AppState, kind: Kind, bytes: Vec<u8>) -> ApiResult<Staged> {
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
