//! Importing a pod, all or nothing, written once over [`WriteTx`] as deletion is
//! (`pod_deletion`). The pod's row exists from the start, marked as importing, so its name is
//! taken; storage does not see the pod (its root row comes last, and a pod being imported is
//! not listed or looked up), and no write can reach it.
//!
//! 1. [`begin`]: the pod's row, marked importing since now.
//! 2. [`add_rows`], repeated: a batch of resources (their blobs uploaded and registered as
//!    pending before), counted against the pod; each batch also says the import is alive.
//! 3. [`finish`]: the root's row, the mark cleared and `pod-provisioned` queued, in one
//!    transaction: the whole pod appears at once.
//!
//! An import that fails is [`abandon`]ed: the pod becomes a deleted pod like any other, whose
//! rows and blobs the purger removes. One whose process died (no batch, no heartbeat for the
//! servers' grace period) is abandoned by the servers' garbage collection.

use crate::engine::{claim_blob, columns, new_etag, Events, NewRow, WriteTx};
use crate::error::StoreError;
use crate::meta::{ImportedRow, Pod};
use crate::now_ms;
use podplane_events::ResourceEventKind;
use podplane_solid::path::ResourcePath;

pub(crate) async fn begin(tx: &mut impl WriteTx, pod: &Pod) -> Result<(), StoreError> {
    if tx.pod_deleted(&pod.name).await?.is_some() {
        return Err(StoreError::Conflict(format!(
            "a pod named {} exists, is being imported or is still being deleted",
            pod.name
        )));
    }
    let row = Pod {
        used_bytes: 0,
        ..pod.clone()
    };
    tx.insert_pod(&row).await?;
    tx.mark_importing(&pod.name, Some(now_ms())).await?;
    Ok(())
}

async fn still_importing(tx: &mut impl WriteTx, name: &str) -> Result<(), StoreError> {
    match tx.importing_since(name).await? {
        Some(_) => Ok(()),
        None => Err(StoreError::Conflict(format!(
            "the import of pod {name} was abandoned"
        ))),
    }
}

/// The row of one imported resource, with a new tag (answered); paths outside pod `name` are
/// refused.
async fn insert(
    tx: &mut impl WriteTx,
    name: &str,
    row: &ImportedRow,
) -> Result<String, StoreError> {
    let path = ResourcePath::parse(&row.path)
        .ok()
        .filter(|p| p.pod() == Some(name))
        .ok_or_else(|| StoreError::Conflict(format!("{} is not in pod {name}", row.path)))?;
    let parent = match path.auxiliary() {
        Some(_) => None,
        None if path.is_pod_root() => None,
        None => path.parent().map(|p| p.as_str().to_owned()),
    };
    let (inline, blob_key) = columns(&row.content);
    claim_blob(tx, blob_key).await?;
    let etag = new_etag();
    tx.upsert(&NewRow {
        path: path.as_str(),
        parent: parent.as_deref(),
        kind: row.kind,
        content_type: &row.content_type,
        inline,
        blob_key,
        size: i64::try_from(row.size).unwrap_or(i64::MAX),
        etag: &etag,
        now: row.modified_ms,
        creator: row.creator.as_deref(),
    })
    .await?;
    Ok(etag)
}

pub(crate) async fn add_rows(
    tx: &mut impl WriteTx,
    name: &str,
    rows: &[ImportedRow],
) -> Result<(), StoreError> {
    still_importing(tx, name).await?;
    let mut bytes = 0i64;
    for row in rows {
        insert(tx, name, row).await?;
        bytes = bytes.saturating_add(i64::try_from(row.size).unwrap_or(i64::MAX));
    }
    tx.add_usage(name, bytes).await?;
    tx.mark_importing(name, Some(now_ms())).await?;
    Ok(())
}

pub(crate) async fn finish(
    tx: &mut impl WriteTx,
    base_url: &str,
    name: &str,
    root: &ImportedRow,
    owner: Option<&str>,
) -> Result<(), StoreError> {
    still_importing(tx, name).await?;
    if root.path != format!("/{name}/") {
        return Err(StoreError::Conflict(format!(
            "{} is not the root of pod {name}",
            root.path
        )));
    }
    let etag = insert(tx, name, root).await?;
    let size = i64::try_from(root.size).unwrap_or(i64::MAX);
    tx.add_usage(name, size).await?;
    tx.mark_importing(name, None).await?;
    // Announced as a pod made here is: its root created, for its owner.
    let now = now_ms();
    let actor = owner.map(str::to_owned);
    let mut events = Events {
        base_url,
        actor: &actor,
        out: Vec::new(),
    };
    events.push(ResourceEventKind::Create, &root.path, None, Some(&etag));
    events.flush(tx, now).await?;
    let provisioned = podplane_events::AuditName::PodProvisioned;
    crate::audit::record_pod(tx, base_url, provisioned, name, owner, 201, now).await
}

/// Turns an import that will not finish into a deleted pod (purged like any other); `false`
/// when `name` is not being imported.
pub(crate) async fn abandon(
    tx: &mut impl WriteTx,
    base_url: &str,
    name: &str,
) -> Result<bool, StoreError> {
    if tx.importing_since(name).await?.is_none() {
        return Ok(false);
    }
    tx.mark_importing(name, None).await?;
    crate::pod_deletion::delete_pod(tx, base_url, name, None).await?;
    Ok(true)
}
