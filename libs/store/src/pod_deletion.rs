//! Deleting a pod, written once over [`WriteTx`] as the write algorithm is: each step is one
//! transaction under the pod's lock, so it cannot interleave with a write to the pod.
//!
//! 1. [`delete_pod`]: the pod's row is marked deleted (its name stays taken) and its root's row
//!    goes, with a `pod-deleted` event. Every write checks the root in its transaction and
//!    every read looks it up with the access control documents, so from this commit on the
//!    pod answers 404 on every replica.
//! 2. [`purge_rows`], repeated: a batch of the pod's rows goes, their blobs listed as garbage
//!    due at once (deleted by the purger right after, or by garbage collection if it dies).
//! 3. [`finish_purge`]: once no row is left, the pod's row goes, with a `pod-purged` event.
//!
//! Each step may be repeated after a crash or run by two replicas at once: a repeat finds
//! nothing more to do.

use crate::engine::WriteTx;
use crate::error::StoreError;
use crate::now_ms;
use podplane_events::{PodEvent, PodEventKind};

/// What asking for a pod's deletion found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodDeletion {
    /// Deleted by this call.
    Deleted,
    /// Deleted before; its purge has not finished.
    AlreadyDeleted,
    NoSuchPod,
}

/// One batch of a purge: how many rows went and the blobs they pointed to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgedRows {
    pub rows: u64,
    pub blob_keys: Vec<String>,
}

/// The half-open range of paths of pod `name`: `/{name}/` up to the next byte after `/`.
/// Pod names are `[a-z0-9-]`, so nothing else falls in it.
fn range(name: &str) -> (String, String) {
    (format!("/{name}/"), format!("/{name}0"))
}

fn event(base_url: &str, kind: PodEventKind, name: &str, actor: Option<&str>) -> PodEvent {
    PodEvent {
        id: uuid::Uuid::new_v4(),
        kind,
        pod: name.to_owned(),
        storage: format!("{base_url}/{name}/"),
        actor: actor.map(str::to_owned),
        published_ms: now_ms(),
    }
}

async fn enqueue(tx: &mut impl WriteTx, event: PodEvent, now: i64) -> Result<(), StoreError> {
    let mut envelope = event.envelope();
    envelope.traceparent = podplane_telemetry::trace::current_traceparent();
    tx.enqueue(&envelope, now).await
}

pub(crate) async fn delete_pod(
    tx: &mut impl WriteTx,
    base_url: &str,
    name: &str,
    actor: Option<&str>,
) -> Result<PodDeletion, StoreError> {
    match tx.pod_deleted(name).await? {
        None => return Ok(PodDeletion::NoSuchPod),
        Some(Some(_)) => return Ok(PodDeletion::AlreadyDeleted),
        Some(None) => {}
    }
    let now = now_ms();
    tx.tombstone_pod(name, now).await?;
    tx.delete_row(&format!("/{name}/")).await?;
    let deleted = event(base_url, PodEventKind::PodDeleted, name, actor);
    enqueue(tx, deleted, now).await?;
    let deleted = podplane_events::AuditName::PodDeleted;
    crate::audit::record_pod(tx, base_url, deleted, name, actor, 202, now).await?;
    Ok(PodDeletion::Deleted)
}

pub(crate) async fn purge_rows(
    tx: &mut impl WriteTx,
    name: &str,
    limit: u32,
) -> Result<PurgedRows, StoreError> {
    match tx.pod_deleted(name).await? {
        // Purged before (a repeated event): nothing left.
        None => return Ok(PurgedRows::default()),
        // Never a live pod's rows, whatever the caller believes (a stale event about an
        // earlier pod of the same name).
        Some(None) => return Err(StoreError::Conflict(format!("pod {name} is not deleted"))),
        Some(Some(_)) => {}
    }
    let (from, to) = range(name);
    let taken = tx.take_rows(&from, &to, limit).await?;
    let rows = taken.len() as u64;
    let blob_keys: Vec<String> = taken.into_iter().flatten().collect();
    for key in &blob_keys {
        // Due at once: no reader may stream a deleted pod's content.
        tx.mark_garbage(key, 0).await?;
    }
    Ok(PurgedRows { rows, blob_keys })
}

pub(crate) async fn finish_purge(
    tx: &mut impl WriteTx,
    base_url: &str,
    name: &str,
) -> Result<bool, StoreError> {
    match tx.pod_deleted(name).await? {
        None => return Ok(true),
        Some(None) => return Err(StoreError::Conflict(format!("pod {name} is not deleted"))),
        Some(Some(_)) => {}
    }
    let (from, to) = range(name);
    if tx.has_rows(&from, &to).await? {
        return Ok(false);
    }
    tx.remove_pod(name).await?;
    let now = now_ms();
    enqueue(
        tx,
        event(base_url, PodEventKind::PodPurged, name, None),
        now,
    )
    .await?;
    Ok(true)
}
