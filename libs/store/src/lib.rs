//! podplane storage backends.
//!
//! Owns where bytes and metadata live: the [`BlobStore`] (resource content: a local directory
//! or S3) and the [`MetadataStore`] (resource rows, containment, pods, the transactional outbox
//! and the blob garbage list: SQLite or PostgreSQL), each named by URL ([`locate`]); and, for
//! the other services, how their own databases are opened ([`service_db`]).
//! A write is all-or-nothing: content goes to a new immutable blob key first, then one metadata
//! transaction switches the row, records the superseded blob as garbage and queues the events.
//!
//! It must not know about HTTP; protocol rules come from `podplane-solid`.

mod audit;
mod blob;
mod cache;
mod engine;
mod error;
mod gc;
pub mod locate;
mod meta;
mod outbox;
mod pg;
mod pg_reads;
mod pod_deletion;
mod pod_import;
mod purge;
mod rewrite;
mod rows;
mod s3;
pub mod service_db;
mod sqlite;
mod sqlite_group;
#[doc(hidden)]
pub mod testing;

pub use audit::{envelope as audit_envelope, STORAGE_SERVICE};
pub use blob::{read_content, BlobStore, ByteStream, DiskBlobStore};
pub use cache::CachedMetadataStore;
pub use error::StoreError;
pub use gc::{abandon_stalled_imports, collect_garbage};
pub use meta::{
    check_room, effective_quota, AccessKind, Allowed, ChildRow, Content, DeleteRequest, Expect,
    ImportedRow, Kind, MetadataStore, NewPod, OutboxBacklog, OutboxBatch, Pod, PodDeletion,
    PoolStats, PurgedRows, Resource, WriteRequest, BACKLOG_COUNT_CAP,
};
pub use outbox::{relay_batch, run_relay};
pub use pg::{PgMetadataStore, PgSettings};
pub use purge::{purge_deleted_pods, purge_pod};
pub use s3::{S3BlobStore, S3Settings};
pub use sqlite::SqliteMetadataStore;

/// Runs a store operation to completion on its own task. Request handlers are cancelled when a
/// client disconnects; a transaction cancelled half-way could leave its pooled connection in
/// an unknown state (sqlx then refuses to begin on it), so every mutation runs detached and the
/// caller only waits for it. It stays in the caller's span, so the events it queues carry the
/// request's trace.
pub(crate) async fn detached<T: Send + 'static>(
    operation: impl std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::spawn(tracing::Instrument::in_current_span(operation))
        .await
        .map_err(|e| StoreError::Unavailable(format!("store task failed: {e}")))?
}

/// Milliseconds since the Unix epoch, the one clock every row uses.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
