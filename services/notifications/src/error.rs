//! The one error type of the notifications service and its mapping to RFC 9457 problems.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use podplane_solid::SolidError;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Solid(#[from] SolidError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    BadRequest(String),
    /// No (valid) credentials: 401 with a DPoP challenge.
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    /// A plain request to a WebSocket URL.
    #[error("{0}")]
    UpgradeRequired(String),
    /// The channel's time is over, or its receiveFrom URL expired.
    #[error("{0}")]
    Gone(String),
    /// The database, the storage service or the bus cannot be reached.
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type NotifyResult<T> = Result<T, NotifyError>;

impl From<sqlx::Error> for NotifyError {
    fn from(e: sqlx::Error) -> Self {
        NotifyError::Unavailable(format!("notifications database: {e}"))
    }
}

impl NotifyError {
    fn status(&self) -> StatusCode {
        match self {
            NotifyError::Solid(SolidError::UnsupportedMediaType(_))
            | NotifyError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            NotifyError::Solid(SolidError::TooLarge(_)) => StatusCode::PAYLOAD_TOO_LARGE,
            NotifyError::Solid(SolidError::InvalidPath(_) | SolidError::BadRequest(_))
            | NotifyError::BadRequest(_) => StatusCode::BAD_REQUEST,
            NotifyError::Solid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            NotifyError::NotFound(_) => StatusCode::NOT_FOUND,
            NotifyError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            NotifyError::Forbidden(_) => StatusCode::FORBIDDEN,
            NotifyError::Gone(_) => StatusCode::GONE,
            NotifyError::UpgradeRequired(_) => StatusCode::UPGRADE_REQUIRED,
            NotifyError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            NotifyError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client may read: internals are logged, never sent.
    fn detail(&self) -> String {
        match self {
            NotifyError::Unavailable(_) => "a backend is unavailable; retry later".into(),
            NotifyError::Internal(_) => "internal error".into(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for NotifyError {
    fn into_response(self) -> Response {
        let mut res = podplane_telemetry::refusal(self.status(), &self.detail(), &self);
        if let NotifyError::UpgradeRequired(_) = &self {
            res.headers_mut()
                .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        }
        res
    }
}
