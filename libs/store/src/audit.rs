//! Audit events of the storage service, queued in the transaction of the change they describe
//! (the outbox), so a change and its audit record commit, or roll back, together.

use crate::engine::WriteTx;
use crate::error::StoreError;
use podplane_events::{AuditEvent, AuditName, Audited, Emitter, Envelope, Subject};
use podplane_solid::path::ResourcePath;

/// The storage service's name in its audit events (`generator`).
pub const STORAGE_SERVICE: &str = "podplane-storage";

/// Queues the audit event `name` of the change at `path`, asked by `who`, answered with
/// `status`.
pub(crate) async fn record(
    tx: &mut impl WriteTx,
    base_url: &str,
    name: AuditName,
    path: &ResourcePath,
    who: &Audited,
    status: u16,
    now: i64,
) -> Result<(), StoreError> {
    match envelope(base_url, name, path, who, status, now) {
        Some(envelope) => tx.enqueue(&envelope, now).await,
        None => Ok(()),
    }
}

/// Queues the audit event `name` of a change to pod `pod` as a whole, by `actor` (a WebID),
/// answered with `status`.
pub(crate) async fn record_pod(
    tx: &mut impl WriteTx,
    base_url: &str,
    name: AuditName,
    pod: &str,
    actor: Option<&str>,
    status: u16,
    now: i64,
) -> Result<(), StoreError> {
    let root = ResourcePath::parse(&format!("/{pod}/"))
        .map_err(|e| StoreError::Conflict(e.to_string()))?;
    let who = Audited {
        webid: actor.map(str::to_owned),
        ..Audited::default()
    };
    record(tx, base_url, name, &root, &who, status, now).await
}

/// The storage service's audit event `name` about `path` (under `base_url`), asked by `who`,
/// answered with `status` at `now`, ready for a bus; `None` for a path in no pod.
pub fn envelope(
    base_url: &str,
    name: AuditName,
    path: &ResourcePath,
    who: &Audited,
    status: u16,
    now: i64,
) -> Option<Envelope> {
    let pod = path.pod()?;
    let iri = format!("{base_url}{}", path.as_str());
    let storage = format!("{base_url}/{pod}/");
    let subject = Subject {
        iri: &iri,
        pod,
        storage: &storage,
    };
    let emitter = Emitter {
        name: STORAGE_SERVICE,
        base_url,
    };
    let mut envelope = AuditEvent::new(&emitter, name, &subject, who, status, now).envelope();
    envelope.traceparent = podplane_telemetry::trace::current_traceparent();
    Some(envelope)
}
