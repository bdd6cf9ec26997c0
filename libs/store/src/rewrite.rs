//! Storing a resource's content another way without changing what it represents: a data
//! migration that rewrites stored documents (so they stop naming the base URL they were
//! written under) goes through here, so clients see no new version, no event and no change
//! of modification time.

use crate::engine::{claim_blob, columns, NewRow, WriteTx};
use crate::error::StoreError;
use crate::meta::Content;
use crate::now_ms;

/// Replaces `path`'s content with `content` (`size` bytes) when its tag is still `etag`, in
/// the caller's transaction (which holds the pod's lock). A new blob must have been
/// registered as pending; a blob it replaces becomes garbage.
pub(crate) async fn rewrite(
    tx: &mut impl WriteTx,
    path: &str,
    etag: &str,
    content: &Content,
    size: u64,
) -> Result<bool, StoreError> {
    let Some(row) = tx.resource(path).await? else {
        return Ok(false);
    };
    if row.etag != etag {
        return Ok(false);
    }
    let (inline, blob_key) = columns(content);
    claim_blob(tx, blob_key).await?;
    let parent = tx.parent_of(path).await?;
    let size_column = i64::try_from(size).unwrap_or(i64::MAX);
    tx.upsert(&NewRow {
        path,
        parent: parent.as_deref(),
        kind: row.kind,
        content_type: &row.content_type,
        inline,
        blob_key,
        size: size_column,
        etag,
        now: row.modified_ms,
        creator: row.creator.as_deref(),
    })
    .await?;
    if let Content::Blob(old) = &row.content {
        if blob_key != Some(old.as_str()) {
            tx.mark_garbage(old, now_ms()).await?;
        }
    }
    // What the pod holds changes by the difference; never refused (it is the same data).
    let delta = size_column - i64::try_from(row.size).unwrap_or(i64::MAX);
    if let Some(pod) = path.trim_start_matches('/').split('/').next() {
        tx.add_usage(pod, delta).await?;
    }
    Ok(true)
}
