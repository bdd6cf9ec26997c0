//! Endpoints for other podplane services, not for clients: under `/.internal/`, answered only
//! to callers presenting the shared secret (`--internal-secret`), absent when none is set.
//! A load balancer should not route `/.internal/` from outside either.

use super::authz;
use crate::error::{ApiError, ApiResult};
use crate::pods::{PodUsage, QuotaOrder};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
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

fn caller_is_trusted(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(secret) = &state.config.internal_secret else {
        return false;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Compared as digests: the time taken says nothing about the secret.
    Sha256::digest(given.as_bytes()) == Sha256::digest(secret.as_bytes())
}

/// `POST /.internal/topic-access`.
pub async fn topic_access(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !caller_is_trusted(&state, &headers) {
        return ApiError::NotFound("no such resource".into()).into_response();
    }
    let q: TopicQuestion = match serde_json::from_slice(&body) {
        Ok(q) => q,
        Err(e) => {
            return ApiError::BadRequest(format!("not a topic question: {e}")).into_response()
        }
    };
    let who = Requester {
        webid: q.webid,
        client_id: q.client_id,
        issuer: q.issuer,
        origin: None,
    };
    match view(&state, who, &q.path).await {
        Ok(v) => json(axum::http::StatusCode::OK, &v),
        Err(e) => e.into_response(),
    }
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
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !caller_is_trusted(&state, &headers) {
        return ApiError::NotFound("no such resource".into()).into_response();
    }
    let order: crate::pods::PodOrder = match serde_json::from_slice(&body) {
        Ok(o) => o,
        Err(e) => return ApiError::BadRequest(format!("not a pod order: {e}")).into_response(),
    };
    match crate::pods::create(state.meta.as_ref(), &state.config.base_url, &order).await {
        Ok(made) => {
            state.outbox_wake.notify_one();
            let status = if made.created {
                axum::http::StatusCode::CREATED
            } else {
                axum::http::StatusCode::OK
            };
            json(status, &made)
        }
        Err(e) => e.into_response(),
    }
}

/// `GET /.internal/pods`: every pod with its usage, by name.
pub async fn pods(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !caller_is_trusted(&state, &headers) {
        return ApiError::NotFound("no such resource".into()).into_response();
    }
    match state.meta.list_pods().await {
        Ok(pods) => {
            let default = state.config.default_quota_bytes;
            let all: Vec<PodUsage> = pods.iter().map(|p| PodUsage::of(p, default)).collect();
            json(axum::http::StatusCode::OK, &all)
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `GET /.internal/pods/{name}`: one pod's usage.
pub async fn pod(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !caller_is_trusted(&state, &headers) {
        return ApiError::NotFound("no such resource".into()).into_response();
    }
    match state.meta.get_pod(&name).await {
        Ok(Some(pod)) => json(
            axum::http::StatusCode::OK,
            &PodUsage::of(&pod, state.config.default_quota_bytes),
        ),
        Ok(None) => ApiError::NotFound(format!("no pod named {name}")).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `PUT /.internal/pods/{name}/quota`: sets (or, with `null`, clears) a pod's own quota.
pub async fn set_quota(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !caller_is_trusted(&state, &headers) {
        return ApiError::NotFound("no such resource".into()).into_response();
    }
    let order: QuotaOrder = match serde_json::from_slice(&body) {
        Ok(o) => o,
        Err(e) => return ApiError::BadRequest(format!("not a quota: {e}")).into_response(),
    };
    match state.meta.set_quota(&name, order.bytes).await {
        Ok(()) => axum::http::StatusCode::NO_CONTENT.into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn json(status: axum::http::StatusCode, value: &impl Serialize) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(value).unwrap_or_default(),
    )
        .into_response()
}
