//! The one error type of the storage service and its mapping to RFC 9457 problems.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use podplane_solid::SolidError;
use podplane_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Solid(#[from] SolidError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    NotFound(String),
    #[error("{detail}")]
    MethodNotAllowed { detail: String, allow: &'static str },
    #[error("{0}")]
    Conflict(String),
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("request body larger than the limit of {0} bytes")]
    PayloadTooLarge(u64),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// No (valid) credentials where access control needs them: 401 with a challenge.
    #[error("{detail}")]
    Unauthenticated { detail: String, challenge: String },
    /// An authenticated agent without the access the operation needs.
    #[error("{0}")]
    Forbidden(String),
    /// The request body stopped arriving for longer than the body-idle timeout.
    #[error("the request body stopped arriving")]
    RequestTimeout,
    #[error("internal error")]
    Internal(String),
    /// A pod archive that cannot be written or read (`archive`; never an HTTP answer).
    #[error("{0}")]
    Archive(String),
}

impl ApiError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::Solid(e) => match e {
                SolidError::InvalidPath(_)
                | SolidError::MalformedRdf { .. }
                | SolidError::BadRequest(_) => StatusCode::BAD_REQUEST,
                SolidError::PathTooLong(..) => StatusCode::URI_TOO_LONG,
                SolidError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                SolidError::NotAcceptable { .. } => StatusCode::NOT_ACCEPTABLE,
                SolidError::UnprocessablePatch(_) | SolidError::UnprocessableSubscription(_) => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                SolidError::PatchConflict(_) | SolidError::ContainmentProtected(_) => {
                    StatusCode::CONFLICT
                }
                SolidError::RangeNotSatisfiable { .. } => StatusCode::RANGE_NOT_SATISFIABLE,
                SolidError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                SolidError::TooComplex(_) => StatusCode::UNPROCESSABLE_ENTITY,
            },
            ApiError::Store(e) => match e {
                StoreError::NotFound(_) => StatusCode::NOT_FOUND,
                StoreError::Conflict(_) => StatusCode::CONFLICT,
                StoreError::Changed => StatusCode::PRECONDITION_FAILED,
                StoreError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
                StoreError::Refused { .. } => StatusCode::FORBIDDEN,
                StoreError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                StoreError::QuotaExceeded { .. } => StatusCode::INSUFFICIENT_STORAGE,
                StoreError::BodyFailed(_) => StatusCode::BAD_REQUEST,
                StoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                StoreError::Corrupt(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BadRequest(_) | ApiError::Archive(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Which configured limit refused the request, for the refusal metric.
    fn limit(&self) -> Option<&'static str> {
        match self {
            ApiError::PayloadTooLarge(_) | ApiError::Store(StoreError::TooLarge { .. }) => {
                Some("body_size")
            }
            ApiError::Solid(SolidError::TooLarge(_)) => Some("expansion"),
            ApiError::Solid(SolidError::TooComplex(_)) => Some("complexity"),
            ApiError::Solid(SolidError::PathTooLong(..)) => Some("path_length"),
            ApiError::RequestTimeout => Some("body_idle"),
            ApiError::Store(StoreError::QuotaExceeded { .. }) => Some("pod_quota"),
            _ => None,
        }
    }

    fn source_message(&self) -> String {
        match self {
            ApiError::Store(StoreError::Unavailable(m)) => m.clone(),
            other => other.to_string(),
        }
    }

    /// What the client may read. Internal details are logged, never sent.
    fn detail(&self) -> String {
        match self {
            ApiError::Store(StoreError::Unavailable(_)) => {
                "a storage backend is unavailable; retry later".into()
            }
            ApiError::Store(StoreError::Corrupt(_)) | ApiError::Internal(_) => {
                "internal error".into()
            }
            ApiError::Store(StoreError::Changed) => {
                "the resource changed while the request was processed".into()
            }
            other => other.to_string(),
        }
    }
}

pub use podplane_telemetry::problem;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Some(limit) = self.limit() {
            metrics::counter!(podplane_telemetry::LIMIT_REFUSALS, "limit" => limit).increment(1);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // A backend outage: expected now and then, and the client is told to retry.
            tracing::warn!(error = %self.source_message(), "backend unavailable");
        } else if status.is_server_error() && status != StatusCode::INSUFFICIENT_STORAGE {
            tracing::error!(error = ?self, "request failed");
        } else {
            tracing::debug!(error = %self, "request refused");
        }
        let mut res = problem(status, &self.detail());
        match &self {
            ApiError::MethodNotAllowed { allow, .. } => {
                res.headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            ApiError::Solid(SolidError::RangeNotSatisfiable { size }) => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    res.headers_mut().insert(header::CONTENT_RANGE, v);
                }
            }
            ApiError::Store(StoreError::Unavailable(_)) => {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::Unauthenticated { challenge, .. } => {
                // A 401 always carries a challenge: one that cannot be a header value (it
                // should never happen; descriptions are sanitised) falls back to the bare
                // scheme.
                let v = HeaderValue::from_str(challenge)
                    .unwrap_or_else(|_| HeaderValue::from_static("DPoP"));
                res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            _ => {}
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
