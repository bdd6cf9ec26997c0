//! RFC 9457 problem bodies: every error a client sees has one.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// An RFC 9457 problem response. `type` is left out: absent, it means `about:blank` (RFC
/// 9457 §3.1.1), and Inrupt's client treats an explicit `about:blank` as a specific type.
/// A server error names its occurrence by the request's trace (when tracing is on), so an
/// operator handed the body finds the trace and the logs of what went wrong.
pub fn problem(status: StatusCode, detail: &str) -> Response {
    let mut body = serde_json::json!({
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    if status.is_server_error() {
        if let Some(trace_id) = crate::trace::current_trace_id() {
            body["instance"] = format!("urn:podplane:trace:{trace_id}").into();
        }
    }
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    res
}

/// The challenge of a 401: DPoP-bound tokens (RFC 9449 §7.1), with the algorithms accepted.
pub const DPOP_CHALLENGE: &str = "DPoP algs=\"ES256 RS256 PS256 EdDSA\"";

/// The problem response of a refused or failed request, logged by what it says of the
/// server: a backend away (503: a warning, and the client is told to retry in a second),
/// another server error (an error, with the internal details the client never sees), a
/// refusal (debug). A 401 carries the DPoP challenge.
pub fn refusal(
    status: StatusCode,
    detail: &str,
    error: &(impl std::fmt::Debug + std::fmt::Display),
) -> Response {
    if status == StatusCode::SERVICE_UNAVAILABLE {
        tracing::warn!(error = %error, "backend unavailable");
    } else if status.is_server_error() {
        tracing::error!(error = ?error, "request failed");
    } else {
        tracing::debug!(error = %error, "request refused");
    }
    let mut res = problem(status, detail);
    let headers = res.headers_mut();
    match status {
        StatusCode::SERVICE_UNAVAILABLE => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        StatusCode::UNAUTHORIZED => {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(DPOP_CHALLENGE),
            );
        }
        _ => {}
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn problems_carry_status_title_detail_and_no_explicit_default_type() {
        let res = problem(StatusCode::NOT_FOUND, "no resource at /x");
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let bytes = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["status"], 404);
        assert_eq!(body["title"], "Not Found");
        assert_eq!(body["detail"], "no resource at /x");
        assert!(body.get("type").is_none(), "{body}");
    }
}
