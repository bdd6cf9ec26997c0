//! Endpoints for other podplane services, not for clients: under `/.internal/`, answered only
//! to callers presenting the shared secret (`--internal-secret`), absent when none is set.
//! A load balancer should not route `/.internal/` from outside either.

use super::authz;
use crate::error::{ApiError, ApiResult};
use crate::pods::{PodUsage, QuotaOrder};
use crate::AppState;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use podplane_solid::access::Requester;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The notifications service's question: may this agent read this path? (The wire shape of
/// `podplane_notifications::access::TopicQuestion`.)
#[derive(Debug, Deserialize)]
pub struct TopicQuestion {
    pub path: String,
    pub webid: Option<String>,
    pub client_id: Option<String>,
    pub issuer: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TopicView {
    pub readable: bool,
    /// The current ETag, for readers only.
    pub state: Option<String>,
}

/// A caller presenting the shared secret. Anyone else finds nothing here (404), as if the
/// endpoints did not exist.
pub struct Trusted;

impl FromRequestParts<AppState> for Trusted {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let given = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let trusted = state.config.internal_secret.as_ref().is_some_and(|secret| {
            // Compared as digests: the time taken says nothing about the secret.
            Sha256::digest(given.as_bytes()) == Sha256::digest(secret.as_bytes())
        });
        if trusted {
            Ok(Trusted)
        } else {
            Err(ApiError::NotFound("no such resource".into()))
        }
    }
}

/// Largest body of an internal call: each is a small JSON object.
const MAX_INTERNAL_BODY: u64 = 64 * 1024;

/// A whole request body, at most [`MAX_INTERNAL_BODY`] bytes (a 413 problem beyond, not
/// axum's plain-text refusal).
async fn read(body: axum::body::Body) -> ApiResult<bytes::Bytes> {
    axum::body::to_bytes(body, MAX_INTERNAL_BODY as usize)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(MAX_INTERNAL_BODY))
}

/// A request body of JSON shape `T` (`what` names it in the 400 otherwise).
async fn parse<T: serde::de::DeserializeOwned>(body: axum::body::Body, what: &str) -> ApiResult<T> {
    let body = read(body).await?;
    serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("not {what}: {e}")))
}

fn json(status: StatusCode, value: &impl Serialize) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(value).unwrap_or_default(),
    )
        .into_response()
}

/// `POST /.internal/topic-access`.
pub async fn topic_access(
    State(state): State<AppState>,
    _: Trusted,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let q: TopicQuestion = parse(body, "a topic question").await?;
    let who = Requester {
        webid: q.webid,
        client_id: q.client_id,
        issuer: q.issuer,
        origin: None,
    };
    Ok(json(StatusCode::OK, &view(&state, who, &q.path).await?))
}

/// What `who` may know about `path`: whether they may read it and, if so, its current ETag.
/// The same decision a GET by them would get.
pub async fn view(state: &AppState, who: Requester, path: &str) -> ApiResult<TopicView> {
    let path = podplane_solid::path::ResourcePath::parse(path)?;
    if !authz::may_get(state, &path, who).await? {
        return Ok(TopicView {
            readable: false,
            state: None,
        });
    }
    let etag = state.meta.get(path.as_str()).await?.map(|r| r.etag);
    Ok(TopicView {
        readable: true,
        state: etag,
    })
}

/// `POST /.internal/pods`: the provisioning service's order for a pod. 201 when made, 200
/// when the same order had been carried out before, 409 when another owner holds the name.
pub async fn create_pod(
    State(state): State<AppState>,
    _: Trusted,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let order: crate::pods::PodOrder = parse(body, "a pod order").await?;
    let made = crate::pods::create(state.meta.as_ref(), &state.config.base_url, &order).await?;
    state.outbox_wake.notify_one();
    let status = if made.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json(status, &made))
}

/// `GET /.internal/pods`: every pod with its usage, by name.
pub async fn pods(State(state): State<AppState>, _: Trusted) -> ApiResult<Response> {
    let default = state.config.default_quota_bytes;
    let pods = state.meta.list_pods().await?;
    let all: Vec<PodUsage> = pods.iter().map(|p| PodUsage::of(p, default)).collect();
    Ok(json(StatusCode::OK, &all))
}

/// `GET /.internal/pods/{name}`: one pod's usage.
pub async fn pod(
    State(state): State<AppState>,
    Path(name): Path<String>,
    _: Trusted,
) -> ApiResult<Response> {
    let pod = state
        .meta
        .get_pod(&name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no pod named {name}")))?;
    let usage = PodUsage::of(&pod, state.config.default_quota_bytes);
    Ok(json(StatusCode::OK, &usage))
}

/// `DELETE /.internal/pods/{name}`: the provisioning service's order to delete a pod. 202
/// while it is being purged (the first order and every repeat), 404 once it is gone.
pub async fn delete_pod(
    State(state): State<AppState>,
    Path(name): Path<String>,
    _: Trusted,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let body = read(body).await?;
    let order: crate::pods::DeleteOrder = match body.is_empty() {
        true => Default::default(),
        false => serde_json::from_slice(&body)
            .map_err(|e| ApiError::BadRequest(format!("not a deletion order: {e}")))?,
    };
    let deleted = crate::pods::delete(state.meta.as_ref(), &state.config.base_url, &name, &order)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no pod named {name}")))?;
    state.outbox_wake.notify_one();
    Ok(json(StatusCode::ACCEPTED, &deleted))
}

/// `PUT /.internal/pods/{name}/quota`: sets (or, with `null`, clears) a pod's own quota.
pub async fn set_quota(
    State(state): State<AppState>,
    Path(name): Path<String>,
    _: Trusted,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let order: QuotaOrder = parse(body, "a quota").await?;
    state.meta.set_quota(&name, order.bytes).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
