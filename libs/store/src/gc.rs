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
        for key in &keys {
            blobs.delete(key).await?;
        }
        meta.forget_garbage(&keys).await?;
        metrics::counter!("podplane_blobs_collected_total").increment(keys.len() as u64);
        removed += keys.len();
    }
}
