//! Flags of the provisioning service (`podplane serve` and `podplane provision`).

use super::{HttpArgs, StorageLinkArgs};
use clap::Args;

/// What the provisioning API gives an agent who asks for a pod, and when it finishes what a
/// crash interrupted.
#[derive(Args, Clone)]
pub struct ProvisioningArgs {
    /// Most pods one agent may be given through the provisioning API (announced as
    /// solid:maxPodsPerOwner). `podplane pod create` is not limited by it.
    #[arg(long, env = "PODPLANE_MAX_PODS_PER_OWNER", default_value_t = podplane_provision::DEFAULT_MAX_PODS_PER_OWNER)]
    pub max_pods_per_owner: u32,
    /// Access control of the pods the provisioning API makes: acp (as ESS) or wac.
    #[arg(long, env = "PODPLANE_PROVISION_ACCESS", default_value = "acp", value_parser = ["acp", "wac"])]
    pub provision_access: String,
    /// Seconds after which a pod reservation that storage never confirmed (its request died,
    /// or storage did not answer) is ordered from storage again; also how often to look.
    #[arg(long, env = "PODPLANE_PROVISION_SETTLE_SECS", default_value_t = 30)]
    pub provision_settle_secs: u64,
    /// WebIDs of the administrators (comma-separated), authenticated like everyone else:
    /// they list every pod with its usage and set quotas over HTTP.
    #[arg(long, env = "PODPLANE_ADMIN_WEBIDS", value_delimiter = ',')]
    pub admin_webids: Vec<String>,
}

impl ProvisioningArgs {
    pub fn settle_after(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.provision_settle_secs.max(1))
    }

    pub fn config(&self, base_url: &str) -> podplane_provision::ProvisionConfig {
        let mut c = podplane_provision::ProvisionConfig::new(base_url);
        c.max_pods_per_owner = self.max_pods_per_owner;
        c.access =
            podplane_solid::access::AccessKind::parse(&self.provision_access).unwrap_or_default();
        c.admins = self
            .admin_webids
            .iter()
            .map(|w| w.trim().to_owned())
            .filter(|w| !w.is_empty())
            .collect();
        c
    }
}

#[derive(Args)]
pub struct ProvisionArgs {
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub pods: ProvisioningArgs,
    /// URL of the provisioning database (its own, never the storage database):
    /// postgres://… (or sqlite://<file> for a single replica).
    #[arg(long = "database-url", env = "PODPLANE_PROVISION_DATABASE_URL")]
    pub database_url: String,
    /// Pooled connections per replica.
    #[arg(long, env = "PODPLANE_DATABASE_MAX_CONNECTIONS", default_value_t = 8)]
    pub database_max_connections: u32,
    /// The storage the pods live in.
    #[command(flatten)]
    pub storage: StorageLinkArgs,
}
