//! Audit events of requests that change nothing: reads and refusals. A change's audit event
//! is queued in the change's own transaction (`podplane_store`'s outbox) and is never lost;
//! these are not changes, and writing a row for every GET would make reads as costly as
//! writes. So they take a second path that must not slow a request down: the request hands
//! its event to a bounded in-memory queue without waiting ([`AuditTap::record`]), and one
//! worker ([`forward`]) publishes the queue to the bus in batches. When the queue is full
//! (the bus is down or slower than the requests) the event is dropped and counted in
//! [`DROPPED`], never waited for.

use crate::AppState;
use podplane_events::{AuditName, Audited, Envelope, EventBus};
use podplane_solid::path::ResourcePath;
use podplane_store::{audit_envelope, now_ms};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// Counter of read and refusal audit events dropped because the queue was full.
pub const DROPPED: &str = "podplane_audit_events_dropped_total";

/// Which requests that change nothing are audited. Changes always are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuditMode {
    /// None.
    Off,
    /// Refused requests (401, 403).
    #[default]
    Denials,
    /// Refused requests and successful reads (GET, HEAD).
    All,
}

impl AuditMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "off" => Some(AuditMode::Off),
            "denials" => Some(AuditMode::Denials),
            "all" => Some(AuditMode::All),
            _ => None,
        }
    }
}

/// Whether `status` says the request was refused for want of credentials or access.
fn refused(status: u16) -> bool {
    matches!(status, 401 | 403)
}

/// Most events one batch publishes.
const BATCH: usize = 1024;

/// An event as a request leaves it: the worker makes it a published event, so a request that
/// finds the queue full has spent almost nothing on it.
pub struct Pending {
    name: AuditName,
    path: ResourcePath,
    who: Audited,
    status: u16,
    at_ms: i64,
    traceparent: Option<String>,
}

impl Pending {
    /// The event, for the storage at `base_url`; `None` for a path in no pod.
    pub fn envelope(&self, base_url: &str) -> Option<Envelope> {
        let (name, path, who) = (self.name, &self.path, &self.who);
        let mut envelope = audit_envelope(base_url, name, path, who, self.status, self.at_ms)?;
        envelope.traceparent.clone_from(&self.traceparent);
        Some(envelope)
    }
}

/// The request side of the path: a bounded queue and the worker's end of it, taken once.
pub struct AuditTap {
    mode: AuditMode,
    sender: mpsc::Sender<Pending>,
    queue: Mutex<Option<mpsc::Receiver<Pending>>>,
}

impl AuditTap {
    /// A tap for `mode` whose queue holds `capacity` events.
    pub fn new(mode: AuditMode, capacity: usize) -> Self {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        Self {
            mode,
            sender,
            queue: Mutex::new(Some(receiver)),
        }
    }

    pub fn mode(&self) -> AuditMode {
        self.mode
    }

    /// Whether requests refused with `status`, or reads answered with it, are audited.
    pub fn wants(&self, read: bool, status: u16) -> bool {
        let refused = refused(status);
        match self.mode {
            AuditMode::Off => false,
            AuditMode::Denials => refused,
            AuditMode::All => refused || (read && (200..400).contains(&status)),
        }
    }

    /// The worker's end of the queue; `None` once taken.
    pub fn take_queue(&self) -> Option<mpsc::Receiver<Pending>> {
        self.queue.lock().ok().and_then(|mut q| q.take())
    }

    /// Queues the event of a request on `path` by `who`, answered with `status`, without
    /// waiting: when the queue is full the event is dropped and counted.
    pub fn record(&self, path: &ResourcePath, read: bool, who: Audited, status: u16) {
        if !self.wants(read, status) || path.pod().is_none() {
            return;
        }
        // A full queue is the common case of an overloaded server: spend nothing more.
        if self.sender.capacity() == 0 {
            metrics::counter!(DROPPED).increment(1);
            return;
        }
        let name = if refused(status) {
            AuditName::AccessDenied
        } else {
            AuditName::ResourceRead
        };
        let pending = Pending {
            name,
            path: path.clone(),
            who,
            status,
            at_ms: now_ms(),
            traceparent: podplane_telemetry::trace::current_traceparent(),
        };
        if self.sender.try_send(pending).is_err() {
            metrics::counter!(DROPPED).increment(1);
        }
    }
}

/// Publishes the tap's queue to `bus` in batches until `stop` turns true. A batch that the
/// bus refuses is dropped (counted) after one retry: holding it would only fill the queue
/// with older events while the requests' newer ones are dropped anyway.
///
/// The worker spends at most `share` of its time on this (`--audit-read-share`): after a
/// batch that took `t` it rests `t × (1 − share) / share`. What a batch costs is the bus's
/// work — in embedded mode the audit service storing it on this machine's cores — so a server
/// saturated with audited reads drops the excess (counted) instead of giving those cores
/// to auditing what it can no longer serve.
pub async fn forward(state: AppState, bus: Arc<dyn EventBus>, mut stop: watch::Receiver<bool>) {
    let Some(mut queue) = state.audit.take_queue() else {
        return;
    };
    let share = state.config.audit_share.clamp(0.01, 1.0);
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            n = queue.recv_many(&mut batch, BATCH) => if n == 0 { return },
            _ = stop.wait_for(|s| *s) => return,
        }
        let started = std::time::Instant::now();
        let base_url = &state.config.base_url;
        let envelopes: Vec<Envelope> = batch
            .drain(..)
            .filter_map(|p| p.envelope(base_url))
            .collect();
        let sends = envelopes.iter().map(|e| publish_once_more(bus.as_ref(), e));
        let failed = futures_util::future::join_all(sends)
            .await
            .into_iter()
            .filter(|ok| !ok)
            .count();
        if failed > 0 {
            metrics::counter!(DROPPED).increment(failed as u64);
            tracing::warn!(
                dropped = failed,
                "the bus refused audit events of reads and refusals"
            );
        }
        if share < 1.0 {
            let rest = started.elapsed().mul_f64((1.0 - share) / share);
            tokio::select! {
                _ = tokio::time::sleep(rest) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }
}

async fn publish_once_more(bus: &dyn EventBus, envelope: &Envelope) -> bool {
    for attempt in 0..2 {
        match bus.publish(envelope).await {
            Ok(()) => return true,
            Err(e) if attempt == 0 => {
                tracing::debug!(error = %e, "publishing an audit event failed; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(_) => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path() -> ResourcePath {
        ResourcePath::parse("/alice/a.ttl").unwrap()
    }

    #[test]
    fn modes_choose_what_is_audited() {
        let off = AuditTap::new(AuditMode::Off, 4);
        let denials = AuditTap::new(AuditMode::Denials, 4);
        let all = AuditTap::new(AuditMode::All, 4);
        assert!(!off.wants(false, 403) && !off.wants(true, 200));
        assert!(denials.wants(true, 401) && denials.wants(false, 403));
        assert!(!denials.wants(true, 200) && !denials.wants(true, 404));
        assert!(all.wants(true, 200) && all.wants(true, 304) && all.wants(false, 401));
        assert!(!all.wants(true, 404) && !all.wants(false, 200));
    }

    #[tokio::test]
    async fn a_full_queue_drops_instead_of_waiting() {
        let tap = AuditTap::new(AuditMode::All, 2);
        for _ in 0..5 {
            tap.record(&path(), true, Audited::default(), 200);
        }
        let mut queue = tap.take_queue().unwrap();
        let mut got = Vec::new();
        queue.recv_many(&mut got, 10).await;
        assert_eq!(got.len(), 2);
        let event = podplane_events::AuditEvent::of(&got[0].envelope("http://x").unwrap()).unwrap();
        assert_eq!(event.name, AuditName::ResourceRead);
        assert_eq!(event.object[0].id, "http://x/alice/a.ttl");
        assert!(tap.take_queue().is_none());
    }

    #[test]
    fn events_outside_pods_are_not_recorded() {
        let tap = AuditTap::new(AuditMode::All, 2);
        tap.record(
            &ResourcePath::parse("/").unwrap(),
            true,
            Audited::default(),
            200,
        );
        assert!(tap.take_queue().unwrap().try_recv().is_err());
    }
}
