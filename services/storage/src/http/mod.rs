//! HTTP surface of the storage service. A request's journey reads top to bottom:
//! [`router`] → CORS (`podplane_telemetry::cors`) → [`route`]: the target path, then one
//! authorization decision (`authz`: who asks, what they hold) → a [`ResourceRequest`] → one
//! handler per method, all of the same shape (`read`, `write`, `patch`, `delete`) → one store
//! call, which checks preconditions and the create-or-replace decision against the row as it
//! is at commit → response headers from `respond`, access headers from `authz::decorate`.
//! Reads and refusals are handed to the audit tap (`crate::audit`) on the way out.

mod acr_view;
mod authz;
mod body;
mod delete;
mod discovery;
mod internal;
mod patch;
mod read;
mod request;
mod respond;
mod write;

pub(crate) use write::stage_turtle;

use crate::audit::AuditMode;
use crate::error::{problem, ApiError, ApiResult};
use crate::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use podplane_solid::headers::ALL_METHODS;
use podplane_solid::path::ResourcePath;

pub use authz::Grant;
pub use internal::{view as topic_view, TopicView};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// One request for a resource, as every handler receives it.
pub struct ResourceRequest {
    /// The target, validated.
    pub path: ResourcePath,
    pub method: Method,
    pub headers: HeaderMap,
    /// Not read yet: handlers refuse what they can before reading it.
    pub body: Body,
    /// Who asks and what they hold, decided before anything else happened.
    pub grant: Grant,
}

pub fn router(state: AppState) -> Router {
    // Installed before the first request so no count is lost.
    let metrics = podplane_telemetry::prometheus();
    Router::new()
        .route(
            "/metrics",
            get(move || async move { podplane_telemetry::render(metrics.as_ref()) }),
        )
        .route(
            "/.well-known/solid",
            get(discovery::well_known_solid).head(discovery::well_known_solid),
        )
        .route(
            "/.internal/topic-access",
            axum::routing::post(internal::topic_access),
        )
        .route(
            "/.internal/pods",
            axum::routing::post(internal::create_pod).get(internal::pods),
        )
        .route(
            "/.internal/pods/{name}",
            get(internal::pod).delete(internal::delete_pod),
        )
        .route(
            "/.internal/pods/{name}/quota",
            axum::routing::put(internal::set_quota),
        )
        .route("/health/live", get(|| async { "ok" }))
        .route("/health/ready", get(discovery::ready))
        .fallback(dispatch)
        // Panics become a problem response inside the CORS layer, so a browser app can still
        // read the 500 (layers added later wrap the earlier ones).
        .layer(CatchPanicLayer::custom(|_| {
            problem(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }))
        .layer(axum::middleware::from_fn(podplane_telemetry::cors::cors))
        .layer(axum::middleware::from_fn(podplane_telemetry::record_http))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Every resource request comes through here: the path is validated once, then the method
/// picks the handler.
async fn dispatch(State(state): State<AppState>, req: Request) -> Response {
    match route(state, req).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn route(state: AppState, req: Request) -> ApiResult<Response> {
    let path = ResourcePath::parse(req.uri().path())?;
    if let Some(description) = discovery::storage_description_target(&path) {
        return discovery::storage_description(&state, &description, req.method(), req.headers())
            .await;
    }
    let method = req.method().clone();
    // Nothing outside a pod can be written: say so before a byte of the body is read (the
    // server root answers its own 405 or 404, also without reading).
    let writes = matches!(method, Method::PUT | Method::POST | Method::PATCH);
    if writes && !path.is_root() && state.access.pod_of(&path).await?.is_none() {
        return Err(ApiError::NotFound(format!("no pod holds {path}")));
    }
    // OPTIONS answers what could be done here, for anyone (CORS preflights carry no
    // credentials), and says what the resource is only to those who may read it; every
    // other method is authorized before anything else happens.
    let raw_path = req.uri().path();
    let (shown, mut res) = if method == Method::OPTIONS {
        let reveal = authz::may_read(&state, &path, raw_path, req.headers()).await;
        (None, read::options(&state, &path, reveal).await?)
    } else {
        let reads = matches!(method, Method::GET | Method::HEAD);
        let grant = match authz::authorize(&state, &method, &path, raw_path, req.headers()).await {
            Ok(grant) => grant,
            Err(refused) => {
                let status = refused.error.status().as_u16();
                state.audit.record(&path, reads, refused.who, status);
                return Err(refused.error);
            }
        };
        let shown = grant.shown();
        // Who asked, kept when the answer could be audited: with denials only, a read was
        // refused (or not) by the decision above; a change can still be refused at commit.
        let kept = match state.audit.mode() {
            AuditMode::Off => false,
            AuditMode::Denials => !reads,
            AuditMode::All => true,
        };
        let audited = kept.then(|| grant.audited());
        let (parts, body) = req.into_parts();
        let req = ResourceRequest {
            path: path.clone(),
            method: parts.method,
            headers: parts.headers,
            body,
            grant,
        };
        let answer = handle(&state, req).await;
        if let Some(who) = audited {
            let status = match &answer {
                Ok(res) => res.status(),
                Err(e) => e.status(),
            };
            state.audit.record(&path, reads, who, status.as_u16());
        }
        (Some(shown), answer?)
    };
    authz::decorate(&state, &method, &path, shown, &mut res).await;
    Ok(res)
}

async fn handle(state: &AppState, req: ResourceRequest) -> ApiResult<Response> {
    match req.method {
        Method::GET | Method::HEAD => read::get(state, req).await,
        Method::PUT => write::put(state, req).await,
        Method::POST => write::post(state, req).await,
        Method::PATCH => patch::patch(state, req).await,
        Method::DELETE => delete::delete(state, req).await,
        ref other => Err(ApiError::MethodNotAllowed {
            detail: format!("method {other} is not supported"),
            allow: ALL_METHODS,
        }),
    }
}
