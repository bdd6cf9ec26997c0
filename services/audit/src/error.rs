//! The one error type of the audit service and its mapping to RFC 9457 problems.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{0}")]
    BadRequest(String),
    /// No (valid) credentials.
    #[error("{0}")]
    Unauthenticated(String),
    /// Neither the pod's owner nor an administrator.
    #[error("{0}")]
    Forbidden(String),
    /// The database or the storage service cannot be reached.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AuditResult<T> = Result<T, AuditError>;

impl From<sqlx::Error> for AuditError {
    fn from(e: sqlx::Error) -> Self {
        AuditError::Unavailable(format!("audit database: {e}"))
    }
}

impl From<sqlx::migrate::MigrateError> for AuditError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        AuditError::Unavailable(format!("audit database migrations: {e}"))
    }
}

impl AuditError {
    fn status(&self) -> StatusCode {
        match self {
            AuditError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AuditError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AuditError::Forbidden(_) => StatusCode::FORBIDDEN,
            AuditError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AuditError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client may read: internals are logged, never sent.
    fn detail(&self) -> String {
        match self {
            AuditError::Unavailable(_) => "a backend is unavailable; retry later".into(),
            AuditError::Internal(_) => "internal error".into(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for AuditError {
    fn into_response(self) -> Response {
        podplane_telemetry::refusal(self.status(), &self.detail(), &self)
    }
}
