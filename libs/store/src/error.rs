#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such resource or pod.
    #[error("not found: {0}")]
    NotFound(String),
    /// The write contradicts the current state (slash twin exists, non-empty container,
    /// a document where a container is needed).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The resource changed since the caller read it (compare-and-swap lost).
    #[error("the resource changed concurrently")]
    Changed,
    /// The request's conditional headers do not hold for the resource as it is at commit.
    #[error("precondition failed")]
    PreconditionFailed,
    /// The writer may not do what the write turned out to be at commit: create a resource
    /// (`exists: false`) or replace one (`exists: true`).
    #[error("not allowed to {} this resource", if *.exists { "replace" } else { "create" })]
    Refused { exists: bool },
    /// A body exceeded the configured size limit; nothing was stored.
    #[error("body larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The write would take the pod past its quota; nothing was stored.
    #[error("the pod's quota of {quota} bytes would be exceeded: {used} bytes are used and this write adds {adding}")]
    QuotaExceeded { quota: u64, used: u64, adding: u64 },
    /// The body stream failed (client went away, truncated upload); nothing was stored.
    #[error("request body failed: {0}")]
    BodyFailed(String),
    /// A backing service cannot be reached; worth retrying later.
    #[error("storage backend unavailable: {0}")]
    Unavailable(String),
    /// Stored data is not what it should be.
    #[error("storage corrupted: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound("row".into()),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Unavailable(format!("migration failed: {e}"))
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound("row".into()),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}
