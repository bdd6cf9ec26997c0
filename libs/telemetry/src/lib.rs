//! What every podplane service shares at its HTTP edge: Prometheus metrics (`/metrics`), the
//! HTTP request metrics middleware, CORS and RFC 9457 problem bodies. It owns metric names; it must not know about any service's
//! domain beyond the counters services record through the `metrics` facade.

pub mod cors;
mod problem;

pub use problem::problem;

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

pub const HTTP_REQUESTS: &str = "podplane_http_requests_total";
pub const HTTP_DURATION: &str = "podplane_http_request_duration_seconds";
/// Open client connections (gauge).
pub const CONNECTIONS_OPEN: &str = "podplane_connections_open";
/// Connections closed at once because the connection cap was reached.
pub const CONNECTIONS_REFUSED: &str = "podplane_connections_refused_total";
/// Requests refused by a configured limit, labelled by which (`limit`).
pub const LIMIT_REFUSALS: &str = "podplane_limit_refusals_total";

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
