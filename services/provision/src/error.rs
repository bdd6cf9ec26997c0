//! The one error type of the provisioning service and its mapping to RFC 9457 problems.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use podplane_solid::SolidError;

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// A pod name or `Slug` that cannot be a pod name.
    #[error(transparent)]
    Solid(#[from] SolidError),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    TooLarge(String),
    /// No (valid) credentials: 401 with a DPoP challenge.
    #[error("{0}")]
    Unauthenticated(String),
    /// An authenticated agent who is neither the pod's owner nor an administrator.
    #[error("{0}")]
    Forbidden(String),
    /// The owner holds as many pods as the limit allows.
    #[error("{0}")]
    LimitReached(String),
    /// The name asked for is taken (or still being purged).
    #[error("{0}")]
    NameTaken(String),
    #[error("{0}")]
    NotFound(String),
    /// The database or the storage service cannot be reached.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ProvisionResult<T> = Result<T, ProvisionError>;

impl From<sqlx::Error> for ProvisionError {
    fn from(e: sqlx::Error) -> Self {
        ProvisionError::Unavailable(format!("provisioning database: {e}"))
    }
}

impl ProvisionError {
    fn status(&self) -> StatusCode {
        match self {
            ProvisionError::Solid(_) | ProvisionError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ProvisionError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ProvisionError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ProvisionError::LimitReached(_) | ProvisionError::Forbidden(_) => StatusCode::FORBIDDEN,
            ProvisionError::NameTaken(_) => StatusCode::CONFLICT,
            ProvisionError::NotFound(_) => StatusCode::NOT_FOUND,
            ProvisionError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ProvisionError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client may read: internals are logged, never sent.
    fn detail(&self) -> String {
        match self {
            ProvisionError::Unavailable(_) => "a backend is unavailable; retry later".into(),
            ProvisionError::Internal(_) => "internal error".into(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for ProvisionError {
    fn into_response(self) -> Response {
        podplane_telemetry::refusal(self.status(), &self.detail(), &self)
    }
}
