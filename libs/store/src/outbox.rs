//! The outbox relay: publishes committed events to the bus, at least once, in commit order.

use crate::meta::MetadataStore;

/// The base URL events name while they wait in the outbox: a stored row must not depend on the
/// base URL either (a server restarted under a new one publishes what it had queued under its
/// new name). Reading a row (`rows::envelope`) puts the store's base URL in its place.
pub(crate) const STORED_BASE: &str = "urn:podplane:base";

/// `text` with every string that starts with [`STORED_BASE`] starting with `base_url` instead.
pub(crate) fn rebased(text: &str, base_url: &str) -> String {
    text.replace(&format!("\"{STORED_BASE}"), &format!("\"{base_url}"))
}
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
    // The whole batch is handed to the bus at once, in order (a round trip per event would
    // cap the relay at one broker latency per event): the producer keeps per-partition order.
    let results = futures_util::future::join_all(
        batch
            .events()
            .iter()
            .map(|(_, envelope)| bus.publish(envelope)),
    )
    .await;
    // Only the events before the first failure count as sent, so per-key order is kept: the
    // rest go again (consumers drop what they already had, by event id).
    let mut sent = Vec::with_capacity(batch.events().len());
    let mut failure = None;
    for ((id, _), result) in batch.events().iter().zip(results) {
        match result {
            Ok(()) if failure.is_none() => sent.push(*id),
            Ok(()) => {}
            Err(e) => {
                failure.get_or_insert(e.to_string());
            }
        }
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
