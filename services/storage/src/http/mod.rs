//! HTTP surface of the storage service. A request's journey reads top to bottom:
//! [`router`] → CORS (`podplane_telemetry::cors`) → [`dispatch`] (target path, method) → one handler module per method group
//! (`read`, `write`, `patch`, `delete`) → store → response headers from `respond`.

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

use crate::error::{problem, ApiError, ApiResult};
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use podplane_solid::headers::ALL_METHODS;
use podplane_solid::path::ResourcePath;

pub use authz::Grant;
pub use internal::{view as topic_view, TopicView};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// How many times a write retries after losing a compare-and-swap race to another writer.
const CAS_ATTEMPTS: usize = 8;

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
    if writes && !path.is_root() && state.pod_of(&path).await?.is_none() {
        return Err(ApiError::NotFound(format!("no pod holds {path}")));
    }
    // OPTIONS answers what could be done here, for anyone (CORS preflights carry no
    // credentials), and says what the resource is only to those who may read it; every
    // other method is authorized before anything else happens.
    let raw_path = req.uri().path();
    let (grant, mut res) = if method == Method::OPTIONS {
        let reveal = authz::may_read(&state, &path, raw_path, req.headers()).await;
        (None, read::options(&state, &path, reveal).await?)
    } else {
        let mut grant = authz::authorize(&state, &method, &path, raw_path, req.headers()).await?;
        let read_row = grant.read_row.take();
        let res = handle(&state, path.clone(), req, &grant, read_row).await?;
        (Some(grant), res)
    };
    authz::decorate(&state, &method, &path, grant.as_ref(), &mut res).await;
    Ok(res)
}

/// `grant` is what authorization decided; handlers that write carry it to their commit, where
/// it is checked against what exists then. `read_row`: the target's row authorization read
/// (GET, HEAD), served as it is.
async fn handle(
    state: &AppState,
    path: ResourcePath,
    req: Request,
    grant: &Grant,
    read_row: Option<podplane_store::Resource>,
) -> ApiResult<Response> {
    let state = state.clone();
    match *req.method() {
        Method::GET => read::get(&state, &path, req.headers(), read_row, true).await,
        Method::HEAD => read::get(&state, &path, req.headers(), read_row, false).await,
        Method::PUT => write::put(&state, path, req, grant).await,
        Method::POST => write::post(&state, path, req, grant).await,
        Method::PATCH => patch::patch(&state, path, req, grant).await,
        Method::DELETE => delete::delete(&state, path, req.headers(), grant.actor()).await,
        ref other => Err(ApiError::MethodNotAllowed {
            detail: format!("method {other} is not supported"),
            allow: ALL_METHODS,
        }),
    }
}
