//! What every podplane service shares at its edges: logs and traces ([`logs`], [`trace`]),
//! Prometheus metrics (`/metrics`), the HTTP request metrics and trace middleware, CORS,
//! RFC 9457 problem bodies, and the routes a service run on its own adds ([`standalone`]). It owns metric names; it must not know about any service's domain
//! beyond the counters services record through the `metrics` facade.

pub mod cors;
pub mod logs;
mod problem;
pub mod trace;

pub use problem::{problem, refusal, DPOP_CHALLENGE};

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;
use tracing::Instrument;

pub const HTTP_REQUESTS: &str = "podplane_http_requests_total";
pub const HTTP_DURATION: &str = "podplane_http_request_duration_seconds";
/// Open client connections (gauge).
pub const CONNECTIONS_OPEN: &str = "podplane_connections_open";
/// Connections closed at once because the connection cap was reached.
pub const CONNECTIONS_REFUSED: &str = "podplane_connections_refused_total";
/// Requests refused by a configured limit, labelled by which (`limit`).
pub const LIMIT_REFUSALS: &str = "podplane_limit_refusals_total";
/// Database connections, labelled by `service` and `state` (`idle`, `in_use`) (gauge).
pub const DB_POOL_CONNECTIONS: &str = "podplane_db_pool_connections";
/// Events committed but not yet published by the outbox relay (gauge; counted up to 100 000).
pub const OUTBOX_PENDING: &str = "podplane_outbox_pending";
/// Age of the oldest unpublished event, 0 when none is waiting (gauge): the relay's lag.
pub const OUTBOX_OLDEST_AGE: &str = "podplane_outbox_oldest_age_seconds";

/// Sets the pool gauges of `service` from its pool's size and idle connections.
pub fn record_pool(service: &'static str, size: u32, idle: u32) {
    metrics::gauge!(DB_POOL_CONNECTIONS, "service" => service, "state" => "idle").set(idle);
    let in_use = size.saturating_sub(idle);
    metrics::gauge!(DB_POOL_CONNECTIONS, "service" => service, "state" => "in_use").set(in_use);
}

/// Installs the process-wide Prometheus recorder once and returns its handle (later calls
/// return the same handle; a process has one recorder).
pub fn prometheus() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    metrics_exporter_prometheus::Matcher::Full(HTTP_DURATION.to_owned()),
                    &[
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                        10.0,
                    ],
                )
                .ok()?
                .install_recorder()
                .ok()
        })
        .clone()
}

/// Counts requests by method and status, and times them by method. Paths are not labels:
/// resource paths are unbounded and would explode the series count.
pub async fn record_http(req: Request, next: Next) -> Response {
    let method = req.method().as_str().to_owned();
    let route = route_of(req.uri().path());
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS, "method" => method.clone(), "status" => status, "route" => route).increment(1);
    metrics::histogram!(HTTP_DURATION, "method" => method).record(started.elapsed().as_secs_f64());
    res
}

/// One server span per request, continuing the caller's trace (`traceparent`), when tracing
/// is on. It wraps every other layer, so errors mapped to problems inside it (and caught
/// panics) can name the trace.
pub async fn trace_http(req: Request, next: Next) -> Response {
    if !trace::enabled() {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_owned();
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{method} {}", route_of(req.uri().path())),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = %method,
        url.path = %req.uri().path(),
        http.response.status_code = tracing::field::Empty,
    );
    let parent = req
        .headers()
        .get(trace::TRACEPARENT)
        .and_then(|v| v.to_str().ok());
    trace::continue_trace(&span, parent);
    let res = next.run(req).instrument(span.clone()).await;
    span.record("http.response.status_code", res.status().as_u16());
    if res.status().is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    res
}

/// A bounded label for a request path: the fixed service endpoints by name, anything else as
/// a resource.
fn route_of(path: &str) -> &'static str {
    match path {
        "/metrics" => "metrics",
        "/health/live" | "/health/ready" => "health",
        "/.well-known/solid" => "discovery",
        _ => "resource",
    }
}

/// The `/metrics` response in the Prometheus text format.
pub fn render(handle: Option<&PrometheusHandle>) -> Response {
    match handle {
        Some(h) => {
            let mut res = h.render().into_response();
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            res
        }
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder not installed",
        )
            .into_response(),
    }
}

/// A service run on its own (`podplane notifications`, `podplane provision`): its `routes`
/// plus `/metrics`, `/health/live`, `/health/ready` (answered by `ready`), request ids and
/// request metrics, and a problem for every other path.
pub fn standalone<F, Fut>(routes: axum::Router, ready: F) -> axum::Router
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response> + Send + 'static,
{
    use axum::routing::get;
    use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
    let metrics = prometheus();
    routes
        .route(
            "/metrics",
            get(move || async move { render(metrics.as_ref()) }),
        )
        .route("/health/live", get(|| async { "ok" }))
        .route("/health/ready", get(ready))
        .fallback(|| async { problem(StatusCode::NOT_FOUND, "no such resource") })
        .layer(axum::middleware::from_fn(record_http))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// What every service's routes answer at their edge: CORS (preflights included) and a problem
/// for a method a route does not take.
pub fn edge<S: Clone + Send + Sync + 'static>(routes: axum::Router<S>) -> axum::Router<S> {
    routes
        .method_not_allowed_fallback(|| async {
            problem(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here")
        })
        .layer(axum::middleware::from_fn(cors::cors))
}
