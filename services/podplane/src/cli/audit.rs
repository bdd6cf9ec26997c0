//! Flags of the audit service (`podplane serve` and `podplane audit`) and of `podplane
//! audit-verify`.

use super::{HttpArgs, KafkaArgs, StorageLinkArgs};
use clap::Args;

/// What the audit service keeps, for how long, and where it copies events.
#[derive(Args, Clone)]
pub struct AuditingArgs {
    /// Days audit events are kept (0: forever).
    #[arg(long, env = "PODPLANE_AUDIT_RETENTION_DAYS", default_value_t = 365)]
    pub audit_retention_days: u64,
    /// Where stored audit events are copied as JSON lines (comma-separated): stdout,
    /// file:<path>, syslog:<host:port> (RFC 5424 over UDP). Default: none.
    #[arg(long, env = "PODPLANE_AUDIT_SINKS", value_delimiter = ',')]
    pub audit_sinks: Vec<String>,
}

impl AuditingArgs {
    pub fn config(
        &self,
        base_url: &str,
        storage_base_url: &str,
        admins: &[String],
    ) -> podplane_audit::AuditConfig {
        let mut c = podplane_audit::AuditConfig::new(base_url, storage_base_url);
        c.admins = admins
            .iter()
            .map(|w| w.trim().to_owned())
            .filter(|w| !w.is_empty())
            .collect();
        c.retention = (self.audit_retention_days > 0)
            .then(|| std::time::Duration::from_secs(self.audit_retention_days * 86_400));
        c
    }

    pub fn sinks(&self) -> anyhow::Result<Vec<podplane_audit::Sink>> {
        self.audit_sinks
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| podplane_audit::Sink::parse(s).map_err(anyhow::Error::msg))
            .collect()
    }
}

#[derive(Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub audit: AuditingArgs,
    /// WebIDs of the administrators (comma-separated): they read every pod's audit events.
    #[arg(long, env = "PODPLANE_ADMIN_WEBIDS", value_delimiter = ',')]
    pub admin_webids: Vec<String>,
    /// URL of the audit database (its own, never another service's): postgres://… (or
    /// sqlite://<file> for a single replica).
    #[arg(long = "database-url", env = "PODPLANE_AUDIT_DATABASE_URL")]
    pub database_url: String,
    /// Pooled connections per replica.
    #[arg(long, env = "PODPLANE_DATABASE_MAX_CONNECTIONS", default_value_t = 8)]
    pub database_max_connections: u32,
    /// The storage whose pods' owners may read their pods' trails.
    #[command(flatten)]
    pub storage: StorageLinkArgs,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Consumer group of the audit service, shared by every replica (each event is stored
    /// once).
    #[arg(
        long,
        env = "PODPLANE_AUDIT_CONSUMER_GROUP",
        default_value = "podplane-audit"
    )]
    pub kafka_consumer_group: String,
}

#[derive(Args)]
pub struct AuditVerifyArgs {
    /// Only this pod's chain (default: every pod's).
    #[arg(long)]
    pub pod: Option<String>,
    /// The audit database: postgres://… or sqlite://<file> (default: the data directory's).
    #[arg(long = "database-url", env = "PODPLANE_AUDIT_DATABASE_URL")]
    pub database_url: Option<String>,
    #[command(flatten)]
    pub data: super::DataArgs,
}
