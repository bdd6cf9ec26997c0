//! Provisioning: pods over HTTP, as ESS's provisioning service offers them. An authenticated
//! agent asks for a pod and becomes its owner; `maxPodsPerOwner` caps how many one agent may
//! hold.
//!
//! A thin shell of I/O around [`provisioner::Provisioner`]. This service keeps its own record
//! of who owns which pod ([`store::ProvisionStore`], its own database); the pod itself is made
//! by the storage service ([`storage::PodStorage`]). It must not read or write the storage
//! database.

mod deletion;
pub mod error;
mod http;
pub mod provisioner;
pub mod storage;
pub mod store;
pub mod workers;

pub use deletion::Asker;
pub use error::ProvisionError;
pub use http::{router, standalone_router};
pub use provisioner::{PodRequest, Provisioner};
pub use storage::{Made, PodOrder, PodStorage, PodUsage, Purge, StorageHttp};
pub use store::Deletion;

use podplane_solid::access::AccessKind;
use std::sync::Arc;

/// Settings; the binary fills them from flags and environment variables.
#[derive(Debug, Clone)]
pub struct ProvisionConfig {
    /// Public base URL of this service without trailing slash; its routes live under
    /// `{base_url}/.provision/`.
    pub base_url: String,
    /// Most pods one owner may be given through the API (`solid:maxPodsPerOwner`).
    pub max_pods_per_owner: u32,
    /// Access control of the pods it makes: ACP, as ESS, or WAC.
    pub access: AccessKind,
    /// WebIDs of the administrators: they see every pod's figures and set quotas.
    pub admins: Vec<String>,
}

impl ProvisionConfig {
    pub fn is_admin(&self, webid: &str) -> bool {
        self.admins.iter().any(|a| a == webid)
    }
}

impl ProvisionConfig {
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            max_pods_per_owner: DEFAULT_MAX_PODS_PER_OWNER,
            access: AccessKind::Acp,
            admins: Vec::new(),
        }
    }
}

/// PodSpaces' figure.
pub const DEFAULT_MAX_PODS_PER_OWNER: u32 = 10;

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
    pub config: ProvisionConfig,
    pub provisioner: Provisioner,
    pub verifier: Arc<podplane_auth::Verifier>,
}

impl State {
    pub fn new(
        config: ProvisionConfig,
        provisioner: Provisioner,
        verifier: Arc<podplane_auth::Verifier>,
    ) -> Self {
        Self(Arc::new(Inner {
            config,
            provisioner,
            verifier,
        }))
    }
}
