//! CORS exactly as the Solid Protocol asks (server-cors-*): echo the Origin, `Vary: Origin`,
//! allow credentials, expose every header we use, answer preflights, enumerate instead of `*`.
//! Every service's router wraps itself in it, so a browser app can call any of them.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Every method a podplane service answers (the Solid Protocol's set).
const ALL_METHODS: &str = "GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE";

const EXPOSED: &str =
    "Accept-Patch, Accept-Post, Accept-Put, Accept-Ranges, Allow, Content-Length, \
Content-Range, Content-Type, ETag, Last-Modified, Link, Location, Retry-After, Vary, WAC-Allow, \
Updates-Via, WWW-Authenticate, X-Request-Id";

/// Request headers Solid clients send; listed even when a preflight does not ask, so `Accept`
/// is always allowed (server-cors-accept-acah).
const ALLOWED: &str =
    "Accept, Authorization, Content-Type, DPoP, If-Match, If-Modified-Since, If-None-Match, \
If-Range, If-Unmodified-Since, Link, Range, Slug, X-Request-Id";

pub async fn cors(req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let is_preflight = req.method() == Method::OPTIONS
        && origin.is_some()
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let requested_headers = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned();
    let mut res = if is_preflight {
        let mut res = StatusCode::NO_CONTENT.into_response();
        let h = res.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALL_METHODS),
        );
        let allowed = match requested_headers.as_ref().and_then(|v| v.to_str().ok()) {
            Some(asked) if !asked.trim().is_empty() => format!("{ALLOWED}, {asked}"),
            _ => ALLOWED.to_owned(),
        };
        if let Ok(v) = HeaderValue::from_str(&allowed) {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
        }
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
        res
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    if let Some(origin) = origin {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED),
        );
    }
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    res
}
