//! Background work of the provisioning service.

use crate::provisioner::Provisioner;
use podplane_store::now_ms;
use std::time::Duration;
use tokio::sync::watch;

/// Every `after`, settles the reservations unconfirmed for longer than `after` (presumed
/// orphaned: their request died; a live request finishes well within it), advances the pod
/// deletions older than `after` (ordered again from storage; finished once purged), and
/// forgets expired DPoP proof ids, until `stop` turns true. Every replica may run it: both are
/// idempotent.
pub async fn settle(provisioner: Provisioner, after: Duration, mut stop: watch::Receiver<bool>) {
    let age_ms = i64::try_from(after.as_millis()).unwrap_or(i64::MAX);
    loop {
        match provisioner.finish_unconfirmed(age_ms).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(settled = n, "orphaned pod reservations settled"),
            Err(e) => tracing::warn!(error = %e, "settling pod reservations failed; will retry"),
        }
        match provisioner.finish_deletions(age_ms).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(finished = n, "pod deletions finished"),
            Err(e) => tracing::warn!(error = %e, "advancing pod deletions failed; will retry"),
        }
        if let Err(e) = provisioner.store.purge_proofs(now_ms() / 1000).await {
            tracing::debug!(error = %e, "purging expired DPoP proof ids failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(after) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
