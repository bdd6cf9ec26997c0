//! HTTP surface of the provisioning service, under `/.provision/` (ESS's provisioning API):
//! `POST /.provision/` makes a pod for the authenticated caller, `GET /.provision/list` lists
//! the caller's pods; then podplane's administration: `GET /.provision/pods/{name}` (a pod's
//! usage and quota, for its owner and administrators), `DELETE /.provision/pods/{name}` (the
//! owner or an administrator: 202 and a status resource under `/.provision/deletions/`),
//! `GET /.provision/pods` and `PUT /.provision/pods/{name}/quota` (administrators only). A request reads top to bottom:
//! who (DPoP) → what → one decision (owner or administrator) → one provisioner call →
//! response.

use crate::deletion::Asker;
use crate::error::{ProvisionError, ProvisionResult};
use crate::provisioner::PodRequest;
use crate::storage::PodUsage;
use crate::store::Deletion;
use crate::State;
use axum::extract::{FromRequestParts, Path, State as AxumState};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use podplane_auth::AuthError;

pub fn router(state: State) -> Router {
    let routes = Router::new()
        .route("/.provision/", post(provision))
        .route("/.provision/list", get(list))
        .route("/.provision/pods", get(all_pods))
        .route("/.provision/pods/{name}", get(one_pod).delete(delete_pod))
        .route("/.provision/deletions/{id}", get(deletion))
        .route(
            "/.provision/pods/{name}/quota",
            axum::routing::put(set_quota),
        );
    podplane_telemetry::edge(routes).with_state(state)
}

/// The service on its own (`podplane provision`): its routes plus health, metrics and request
/// ids, and a problem for every other path.
pub fn standalone_router(state: State) -> Router {
    let ready = state.clone();
    podplane_telemetry::standalone(router(state), move || {
        let state = ready.clone();
        async move {
            match state.provisioner.store.ping().await {
                Ok(()) => (StatusCode::OK, "ready").into_response(),
                Err(e) => e.into_response(),
            }
        }
    })
}

/// The authenticated caller's WebID; 401 without (valid) credentials.
struct Caller(String);

impl FromRequestParts<State> for Caller {
    type Rejection = ProvisionError;
    async fn from_request_parts(parts: &mut Parts, state: &State) -> ProvisionResult<Self> {
        let url = format!("{}{}", state.config.base_url, parts.uri.path());
        match state
            .verifier
            .authenticate_headers(&parts.headers, parts.method.as_str(), &url)
            .await
        {
            Ok(Some(agent)) => Ok(Caller(agent.webid)),
            Ok(None) => Err(ProvisionError::Unauthenticated(
                "this needs an authenticated agent (a DPoP-bound Solid-OIDC token)".into(),
            )),
            Err(AuthError::Unavailable(m)) => Err(ProvisionError::Unavailable(m)),
            Err(AuthError::Ambiguous(m)) => Err(ProvisionError::BadRequest(m)),
            Err(e) => Err(ProvisionError::Unauthenticated(e.to_string())),
        }
    }
}

/// The pod name the request asks for (`Slug`), if any.
struct Wanted(Option<String>);

impl FromRequestParts<State> for Wanted {
    type Rejection = ProvisionError;
    async fn from_request_parts(parts: &mut Parts, _: &State) -> ProvisionResult<Self> {
        let mut slugs = parts.headers.get_all("slug").iter();
        let (Some(slug), None) = (slugs.next(), slugs.next()) else {
            return match parts.headers.contains_key("slug") {
                true => Err(ProvisionError::BadRequest(
                    "more than one Slug header".into(),
                )),
                false => Ok(Wanted(None)),
            };
        };
        let slug = slug
            .to_str()
            .map_err(|_| ProvisionError::BadRequest("the Slug header is not text".into()))?;
        Ok(Wanted(Some(podplane_solid::pod::name_from_slug(slug)?)))
    }
}

/// `POST /.provision/`: a pod for the caller. The body, if any, is not read (ESS's API takes
/// none). 201 with the pod's root in `Location` and as `{"storage": …}`.
async fn provision(
    AxumState(state): AxumState<State>,
    Caller(owner): Caller,
    Wanted(name): Wanted,
) -> ProvisionResult<Response> {
    let storage = state
        .provisioner
        .create(&PodRequest {
            owner,
            name,
            access: state.config.access,
            limit: Some(state.config.max_pods_per_owner),
        })
        .await?;
    let mut res = json(
        StatusCode::CREATED,
        &serde_json::json!({ "storage": storage }),
    );
    if let Ok(location) = HeaderValue::from_str(&storage) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    Ok(res)
}

/// `GET /.provision/list`: the root IRIs of the caller's pods, oldest first.
async fn list(
    AxumState(state): AxumState<State>,
    Caller(owner): Caller,
) -> ProvisionResult<Response> {
    let pods = state.provisioner.list(&owner).await?;
    Ok(json(StatusCode::OK, &serde_json::json!(pods)))
}

/// An administrator (by WebID, from the configured list); 401 or 403 otherwise.
struct Admin;

impl FromRequestParts<State> for Admin {
    type Rejection = ProvisionError;
    async fn from_request_parts(parts: &mut Parts, state: &State) -> ProvisionResult<Self> {
        let Caller(webid) = Caller::from_request_parts(parts, state).await?;
        if state.config.is_admin(&webid) {
            Ok(Admin)
        } else {
            Err(ProvisionError::Forbidden(
                "only administrators may do this".into(),
            ))
        }
    }
}

/// A pod as the administration API shows it.
fn view(state: &State, pod: &PodUsage) -> serde_json::Value {
    serde_json::json!({
        "storage": state.provisioner.storage_of(&pod.name),
        "name": pod.name,
        "owner": pod.owner,
        "access": pod.access,
        "usedBytes": pod.used_bytes,
        "quotaBytes": pod.quota_bytes,
        "ownQuota": pod.own_quota,
    })
}

/// `GET /.provision/pods/{name}`: a pod's usage and quota, for its owner or an administrator.
async fn one_pod(
    AxumState(state): AxumState<State>,
    Path(name): Path<String>,
    Caller(caller): Caller,
) -> ProvisionResult<Response> {
    let pod = state
        .provisioner
        .usage(&name)
        .await?
        .ok_or_else(|| ProvisionError::NotFound(format!("no pod named {name}")))?;
    if pod.owner.as_deref() != Some(caller.as_str()) && !state.config.is_admin(&caller) {
        return Err(ProvisionError::Forbidden(
            "only the pod's owner and administrators may see its figures".into(),
        ));
    }
    Ok(json(StatusCode::OK, &view(&state, &pod)))
}

/// A pod deletion as its status resource shows it.
fn deletion_view(state: &State, d: &Deletion) -> serde_json::Value {
    serde_json::json!({
        "id": status_url(state, d),
        "pod": d.pod,
        "storage": state.provisioner.storage_of(&d.pod),
        "owner": d.owner,
        "requestedBy": d.requested_by,
        "requestedMs": d.requested_at,
        "state": if d.purged_at.is_some() { "purged" } else { "purging" },
        "purgedMs": d.purged_at,
    })
}

fn status_url(state: &State, d: &Deletion) -> String {
    format!("{}/.provision/deletions/{}", state.config.base_url, d.id)
}

impl Caller {
    fn asker<'a>(&'a self, state: &State) -> Asker<'a> {
        Asker::Agent {
            webid: &self.0,
            admin: state.config.is_admin(&self.0),
        }
    }
}

/// `DELETE /.provision/pods/{name}` (the owner or an administrator): the pod answers 404 from
/// now on and is purged asynchronously. 202 with the deletion's status resource in `Location`
/// and as the body; the same for a repeat while the purge runs.
async fn delete_pod(
    AxumState(state): AxumState<State>,
    Path(name): Path<String>,
    caller: Caller,
) -> ProvisionResult<Response> {
    let deletion = state
        .provisioner
        .delete(&name, caller.asker(&state))
        .await?;
    let status = match deletion.purged_at {
        Some(_) => StatusCode::OK,
        None => StatusCode::ACCEPTED,
    };
    let mut res = json(status, &deletion_view(&state, &deletion));
    if let Ok(location) = HeaderValue::from_str(&status_url(&state, &deletion)) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    Ok(res)
}

/// `GET /.provision/deletions/{id}`: where a pod deletion stands (`purging`, then `purged`),
/// for the pod's owner, who asked, and administrators.
async fn deletion(
    AxumState(state): AxumState<State>,
    Path(id): Path<String>,
    caller: Caller,
) -> ProvisionResult<Response> {
    let deletion = state
        .provisioner
        .deletion(&id, caller.asker(&state))
        .await?;
    Ok(json(StatusCode::OK, &deletion_view(&state, &deletion)))
}

/// `GET /.provision/pods`: every pod with its usage (administrators).
async fn all_pods(AxumState(state): AxumState<State>, _: Admin) -> ProvisionResult<Response> {
    let pods = state.provisioner.all_usage().await?;
    let views: Vec<serde_json::Value> = pods.iter().map(|p| view(&state, p)).collect();
    Ok(json(StatusCode::OK, &serde_json::Value::Array(views)))
}

/// The body of `PUT /.provision/pods/{name}/quota`: `{"bytes": N}`, or `{"bytes": null}` for
/// the server's default.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Quota {
    bytes: Option<u64>,
}

/// Largest quota body: `{"bytes": …}` is a few dozen bytes.
const MAX_QUOTA_BODY: usize = 4096;

/// `PUT /.provision/pods/{name}/quota` (administrators): 204.
async fn set_quota(
    AxumState(state): AxumState<State>,
    Path(name): Path<String>,
    _: Admin,
    body: axum::body::Body,
) -> ProvisionResult<Response> {
    let body = axum::body::to_bytes(body, MAX_QUOTA_BODY)
        .await
        .map_err(|_| {
            ProvisionError::TooLarge(format!("a quota body is at most {MAX_QUOTA_BODY} bytes"))
        })?;
    let quota: Quota = serde_json::from_slice(&body).map_err(|e| {
        ProvisionError::BadRequest(format!(
            "a quota is {{\"bytes\": <bytes, or null for the default>}}: {e}"
        ))
    })?;
    state.provisioner.set_quota(&name, quota.bytes).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut res = (status, value.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}
