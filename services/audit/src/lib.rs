//! Audit: the record of who did what. Every service queues its audit events
//! (`podplane_events::AuditEvent`) on `podplane.audit.v1`; this service stores each once (by
//! its id), chains each pod's events so tampering shows ([`chain`]), keeps them for the
//! retention period, copies them to the configured [`sinks`], and serves them to pod owners
//! and administrators ([`router`]).
//!
//! A thin shell of I/O around [`store::AuditStore`] (its own database). It learns who owns a
//! pod from the storage service ([`owners::PodOwners`]) and must not read another service's
//! database.

pub mod chain;
pub mod error;
mod http;
pub mod owners;
pub mod sinks;
pub mod store;
pub mod workers;

pub use error::AuditError;
pub use http::{router, standalone_router};
pub use owners::{PodOwners, StorageHttp};
pub use sinks::{Sink, Sinks};
pub use store::AuditStore;

use std::sync::Arc;
use std::time::Duration;

/// Settings; the binary fills them from flags and environment variables.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// Public base URL of this service without trailing slash; its routes live under
    /// `{base_url}/.audit/`.
    pub base_url: String,
    /// WebIDs of the administrators: they read every pod's events.
    pub admins: Vec<String>,
    /// How long events are kept; `None`: forever.
    pub retention: Option<Duration>,
    /// Public base URL of the storage whose events this service keeps (without trailing
    /// slash); events of other storages on the same topic (deployments sharing a Kafka
    /// cluster) are skipped.
    pub storage_base_url: String,
}

impl AuditConfig {
    /// For a service at `base_url` keeping the events of the storage at `storage_base_url`.
    pub fn new(base_url: &str, storage_base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            admins: Vec::new(),
            retention: None,
            storage_base_url: storage_base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Whether an event about the pod at `storage` (its root's IRI) is this service's.
    pub fn keeps(&self, storage: &str) -> bool {
        storage
            .strip_prefix(&self.storage_base_url)
            .is_some_and(|rest| rest.starts_with('/'))
    }

    pub fn is_admin(&self, webid: &str) -> bool {
        self.admins.iter().any(|a| a == webid)
    }
}

/// Everything a handler or worker needs: one `Arc`, cloned per request.
#[derive(Clone)]
pub struct State(Arc<Inner>);

impl std::ops::Deref for State {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

pub struct Inner {
    pub config: AuditConfig,
    pub store: AuditStore,
    pub owners: Arc<dyn PodOwners>,
    pub sinks: Sinks,
    pub verifier: Arc<podplane_auth::Verifier>,
}

impl State {
    pub fn new(
        config: AuditConfig,
        store: AuditStore,
        owners: Arc<dyn PodOwners>,
        sinks: Sinks,
        verifier: Arc<podplane_auth::Verifier>,
    ) -> Self {
        Self(Arc::new(Inner {
            config,
            store,
            owners,
            sinks,
            verifier,
        }))
    }
}
