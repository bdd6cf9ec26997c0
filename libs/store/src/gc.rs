//! Blob garbage collection: removes superseded and orphaned blobs after a grace period.

use crate::blob::BlobStore;
use crate::error::StoreError;
use crate::meta::MetadataStore;
use crate::now_ms;

/// One pass: deletes blobs that became garbage before `grace_ms` ago. The grace period covers
/// readers that started streaming the old version just before it was replaced. Returns how
/// many blobs were removed.
pub async fn collect_garbage(
    meta: &dyn MetadataStore,
    blobs: &dyn BlobStore,
    grace_ms: i64,
) -> Result<usize, StoreError> {
    let mut removed = 0;
    loop {
        let keys = meta.garbage(now_ms() - grace_ms, 500).await?;
        if keys.is_empty() {
            return Ok(removed);
        }
        delete_garbage(meta, blobs, &keys).await?;
        metrics::counter!("podplane_blobs_collected_total").increment(keys.len() as u64);
        removed += keys.len();
    }
}

/// Blobs deleted at once: enough to hide S3's latency, few enough not to crowd other work.
const CONCURRENT_BLOB_DELETES: usize = 16;

/// Deletes the garbage blobs `keys`, then forgets them. A process that dies in between leaves
/// them listed, and the next pass deletes them again (deleting a missing blob succeeds).
pub(crate) async fn delete_garbage(
    meta: &dyn MetadataStore,
    blobs: &dyn BlobStore,
    keys: &[String],
) -> Result<(), StoreError> {
    for chunk in keys.chunks(CONCURRENT_BLOB_DELETES) {
        let deletes = chunk.iter().map(|key| blobs.delete(key));
        for deleted in futures_util::future::join_all(deletes).await {
            deleted?;
        }
    }
    meta.forget_garbage(keys).await
}

/// Abandons the pod imports that have shown no life since `before_ms` (their process died):
/// each becomes a deleted pod, which the purger removes. Answers how many.
pub async fn abandon_stalled_imports(
    meta: &dyn MetadataStore,
    before_ms: i64,
) -> Result<usize, StoreError> {
    let mut abandoned = 0;
    for name in meta.stalled_imports(before_ms).await? {
        if meta.abandon_import(&name).await? {
            tracing::warn!(pod = %name, "a pod import stopped showing life; abandoned, to be purged");
            abandoned += 1;
        }
    }
    Ok(abandoned)
}
