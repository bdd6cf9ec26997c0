//! The audit service in either mode: its state from flags, the in-process answer to "who owns
//! this pod" that embedded mode gives without HTTP, and `podplane audit-verify`.

use crate::cli::{AuditVerifyArgs, AuditingArgs, HttpArgs};
use anyhow::Context;
use podplane_audit::{AuditConfig, AuditError, AuditStore, PodOwners, Sinks, State};
use podplane_store::MetadataStore;
use std::sync::Arc;

/// Embedded mode: the storage database in this process knows.
pub struct InProcessOwners(pub Arc<dyn MetadataStore>);

#[async_trait::async_trait]
impl PodOwners for InProcessOwners {
    async fn owner(&self, name: &str) -> Result<Option<String>, AuditError> {
        match self.0.get_pod(name).await {
            Ok(pod) => Ok(pod.and_then(|p| p.owner)),
            Err(e) => Err(AuditError::Unavailable(e.to_string())),
        }
    }
}

/// The service state: events in `database_url`, owners from `owners`.
pub async fn state(
    http: &HttpArgs,
    config: AuditConfig,
    args: &AuditingArgs,
    database_url: &str,
    max_connections: u32,
    owners: Arc<dyn PodOwners>,
    verifier: Option<Arc<podplane_auth::Verifier>>,
) -> anyhow::Result<State> {
    let store = AuditStore::open(database_url, max_connections)
        .await
        .context("opening the audit database")?;
    let sinks = Sinks::open(&args.sinks()?)
        .await
        .context("opening the audit sinks")?;
    let verifier = match verifier {
        Some(v) => v,
        // Replicas share DPoP proof ids through the audit database.
        None => Arc::new(podplane_auth::Verifier::new(
            http.auth.config()?,
            Arc::new(store.clone()),
        )),
    };
    Ok(State::new(config, store, owners, sinks, verifier))
}

/// `podplane audit-verify`: every chain (or one pod's), verified from the stored events.
pub async fn verify(args: &AuditVerifyArgs) -> anyhow::Result<()> {
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| crate::cli::sqlite_in(&args.data.data_dir, "audit.sqlite"));
    let store = AuditStore::open(&url, 2)
        .await
        .context("opening the audit database")?;
    let pods = match &args.pod {
        Some(pod) => vec![pod.clone()],
        None => store.pods().await?,
    };
    let mut broken = 0;
    for pod in &pods {
        match store.verify(pod).await? {
            None => println!("{pod}: no audit events"),
            Some(Ok(n)) => println!("{pod}: {n} events, chain intact"),
            Some(Err(e)) => {
                broken += 1;
                println!("{pod}: BROKEN: {e}");
            }
        }
    }
    anyhow::ensure!(broken == 0, "{broken} of {} chains are broken", pods.len());
    Ok(())
}

/// Embedded mode's bus: audit events go to the audit service's intake (a publish returns once
/// they are stored), everything else to the in-process bus the other services read.
pub struct EmbeddedBus {
    pub bus: podplane_events::InProcessBus,
    pub audit: podplane_audit::workers::Intake,
}

#[async_trait::async_trait]
impl podplane_events::EventBus for EmbeddedBus {
    async fn publish(
        &self,
        envelope: &podplane_events::Envelope,
    ) -> Result<(), podplane_events::EventError> {
        if envelope.topic == podplane_events::AUDIT_TOPIC {
            self.audit.publish(envelope).await
        } else {
            self.bus.publish(envelope).await
        }
    }
}
