//! The purge of deleted pods: every row in batches, then every blob those rows pointed to,
//! then the pod itself (see `pod_deletion` for the transactions). Resumable: a purge cut short
//! anywhere is finished by running it again, by this replica or another.

use crate::blob::BlobStore;
use crate::error::StoreError;
use crate::meta::MetadataStore;

/// Purges deleted pod `name`, `batch` rows per transaction. Returns how many rows went; once
/// it returns Ok the pod is gone (and `pod-purged` queued), or a live pod holds the name (the
/// order was a stale repeat) and nothing was touched.
pub async fn purge_pod(
    meta: &dyn MetadataStore,
    blobs: &dyn BlobStore,
    name: &str,
    batch: u32,
) -> Result<u64, StoreError> {
    let mut rows = 0;
    loop {
        let taken = match meta.purge_rows(name, batch.max(1)).await {
            Ok(taken) => taken,
            Err(StoreError::Conflict(detail)) => {
                tracing::info!(pod = name, detail, "not purged: the pod is live");
                return Ok(rows);
            }
            Err(e) => return Err(e),
        };
        // The rows are gone and their blobs listed as garbage: if this process dies now,
        // garbage collection deletes the blobs instead.
        crate::gc::delete_garbage(meta, blobs, &taken.blob_keys).await?;
        metrics::counter!("podplane_purged_rows_total").increment(taken.rows);
        rows += taken.rows;
        if taken.rows == 0 && meta.finish_purge(name).await? {
            tracing::info!(pod = name, rows, "pod purged");
            return Ok(rows);
        }
    }
}

/// Purges every pod deleted and not yet purged (after a crash, or when no event said so).
pub async fn purge_deleted_pods(
    meta: &dyn MetadataStore,
    blobs: &dyn BlobStore,
    batch: u32,
) -> Result<usize, StoreError> {
    let names = meta.deleted_pods().await?;
    for name in &names {
        purge_pod(meta, blobs, name, batch).await?;
    }
    Ok(names.len())
}
