//! The outbox relay: publishes committed events to the bus, at least once, in commit order.

use crate::meta::MetadataStore;
use podplane_events::EventBus;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Runs until `shutdown` resolves. `wake` is notified after each commit so events go out at
/// once; the poll interval is the fallback (and what recovers after a bus outage).
pub async fn run_relay(
    meta: Arc<dyn MetadataStore>,
    bus: Arc<dyn EventBus>,
    wake: Arc<Notify>,
    poll: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        match relay_batch(meta.as_ref(), bus.as_ref()).await {
            Ok(n) if n > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox relay: will retry"),
        }
        tokio::select! {
            _ = &mut shutdown => return,
            _ = wake.notified() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

/// Publishes one batch if this relay gets the lease; returns how many events were sent.
pub async fn relay_batch(meta: &dyn MetadataStore, bus: &dyn EventBus) -> Result<usize, String> {
    let Some(batch) = meta.outbox_batch(256).await.map_err(|e| e.to_string())? else {
        return Ok(0);
    };
    let mut sent = Vec::with_capacity(batch.events().len());
    let mut failure = None;
    for (id, envelope) in batch.events() {
        // Stop at the first failure so per-key order is kept; what did go out is marked.
        if let Err(e) = bus.publish(envelope).await {
            failure = Some(e.to_string());
            break;
        }
        sent.push(*id);
    }
    batch.complete(&sent).await.map_err(|e| e.to_string())?;
    metrics::counter!("podplane_outbox_published_total").increment(sent.len() as u64);
    if failure.is_some() {
        metrics::counter!("podplane_outbox_publish_failures_total").increment(1);
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(sent.len()),
    }
}
