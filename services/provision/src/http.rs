//! HTTP surface of the provisioning service, under `/.provision/` (ESS's provisioning API):
//! `POST /.provision/` makes a pod for the authenticated caller, `GET /.provision/list` lists
//! the caller's pods. A request reads top to bottom: who (DPoP) → what (a pod name from
//! `Slug`, or none) → one provisioner call → response.

use crate::error::{ProvisionError, ProvisionResult};
use crate::provisioner::PodRequest;
use crate::State;
use axum::extract::{FromRequestParts, State as AxumState};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use podplane_auth::AuthError;

pub fn router(state: State) -> Router {
    Router::new()
        .route("/.provision/", post(provision))
        .route("/.provision/list", get(list))
        .method_not_allowed_fallback(|| async {
            podplane_telemetry::problem(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here")
        })
        .layer(axum::middleware::from_fn(podplane_telemetry::cors::cors))
        .with_state(state)
}

/// The service on its own (`podplane provision`): its routes plus health, metrics and request
/// ids, and a problem for every other path.
pub fn standalone_router(state: State) -> Router {
    let metrics = podplane_telemetry::prometheus();
    let ready_state = state.clone();
    router(state)
        .route(
            "/metrics",
            get(move || async move { podplane_telemetry::render(metrics.as_ref()) }),
        )
        .route("/health/live", get(|| async { "ok" }))
        .route(
            "/health/ready",
            get(move || {
                let state = ready_state.clone();
                async move {
                    match state.provisioner.store.ping().await {
                        Ok(()) => (StatusCode::OK, "ready").into_response(),
                        Err(e) => e.into_response(),
                    }
                }
            }),
        )
        .fallback(|| async {
            podplane_telemetry::problem(StatusCode::NOT_FOUND, "no such resource")
        })
        .layer(axum::middleware::from_fn(podplane_telemetry::record_http))
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(
            tower_http::request_id::MakeRequestUuid,
        ))
}

/// The authenticated caller's WebID; 401 without (valid) credentials.
struct Owner(String);

impl FromRequestParts<State> for Owner {
    type Rejection = ProvisionError;
    async fn from_request_parts(parts: &mut Parts, state: &State) -> ProvisionResult<Self> {
        let url = format!("{}{}", state.config.base_url, parts.uri.path());
        match state
            .verifier
            .authenticate_headers(&parts.headers, parts.method.as_str(), &url)
            .await
        {
            Ok(Some(agent)) => Ok(Owner(agent.webid)),
            Ok(None) => Err(ProvisionError::Unauthenticated(
                "provisioning a pod needs an authenticated agent: the pod's owner".into(),
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
    Owner(owner): Owner,
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
    Owner(owner): Owner,
) -> ProvisionResult<Response> {
    let pods = state.provisioner.list(&owner).await?;
    Ok(json(StatusCode::OK, &serde_json::json!(pods)))
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    let mut res = (status, value.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}
