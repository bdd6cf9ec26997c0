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

/// Publishes one batch; returns how many rows were sent.
pub async fn relay_batch(meta: &dyn MetadataStore, bus: &dyn EventBus) -> Result<usize, String> {
    let batch = meta.outbox_pending(256).await.map_err(|e| e.to_string())?;
    let mut sent = Vec::with_capacity(batch.len());
    for (id, envelope) in &batch {
        if let Err(e) = bus.publish(envelope).await {
            // Stop at the first failure so per-key order is kept; mark what did go out.
            meta.outbox_mark_sent(&sent)
                .await
                .map_err(|e| e.to_string())?;
            return Err(e.to_string());
        }
        sent.push(*id);
    }
    meta.outbox_mark_sent(&sent)
        .await
        .map_err(|e| e.to_string())?;
    Ok(sent.len())
}
