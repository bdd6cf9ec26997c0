//! Flags of the notifications service (`podplane serve` and `podplane notifications`).

use super::{HttpArgs, KafkaArgs, StorageLinkArgs};
use clap::Args;

/// How channels live and webhooks are delivered.
#[derive(Args, Clone)]
pub struct NotifyArgs {
    /// Longest life of a notification channel, in seconds (also its life when the subscriber
    /// names no endAt); its receiveFrom URL stops working then.
    #[arg(long, env = "PODPLANE_CHANNEL_TTL_SECS", default_value_t = 24 * 3600)]
    pub channel_ttl_secs: u64,
    /// Attempts to deliver one webhook notification before it goes on the failure list.
    #[arg(long, env = "PODPLANE_WEBHOOK_ATTEMPTS", default_value_t = 4)]
    pub webhook_attempts: u32,
    /// Milliseconds before the second attempt; doubled for each later one.
    #[arg(long, env = "PODPLANE_WEBHOOK_BACKOFF_MS", default_value_t = 500)]
    pub webhook_backoff_ms: u64,
    /// Seconds one webhook POST may take.
    #[arg(long, env = "PODPLANE_WEBHOOK_TIMEOUT_SECS", default_value_t = 10)]
    pub webhook_timeout_secs: u64,
    /// Allow webhook targets on loopback (development, tests). Private and link-local
    /// targets stay refused unless named in --webhook-allow-ranges.
    #[arg(long, env = "PODPLANE_WEBHOOK_ALLOW_LOOPBACK")]
    pub webhook_allow_loopback: bool,
    /// Non-public address ranges webhooks may be sent to anyway (comma-separated CIDRs).
    #[arg(long, env = "PODPLANE_WEBHOOK_ALLOW_RANGES", value_delimiter = ',')]
    pub webhook_allow_ranges: Vec<ipnet::IpNet>,
    /// Seconds between sweeps that close connections of deleted or ended channels.
    #[arg(long, env = "PODPLANE_CHANNEL_SWEEP_SECS", default_value_t = 2)]
    pub channel_sweep_secs: u64,
}

impl NotifyArgs {
    pub fn config(
        &self,
        base_url: &str,
        storage_base_url: &str,
    ) -> podplane_notifications::NotificationsConfig {
        let mut c = podplane_notifications::NotificationsConfig::new(base_url, storage_base_url);
        c.channel_ttl = std::time::Duration::from_secs(self.channel_ttl_secs.max(1));
        c.webhook_attempts = self.webhook_attempts.max(1);
        c.webhook_backoff = std::time::Duration::from_millis(self.webhook_backoff_ms);
        c.webhook_timeout = std::time::Duration::from_secs(self.webhook_timeout_secs.max(1));
        c.webhook_targets = podplane_auth::FetchLimits {
            allow_private: self.webhook_allow_loopback,
            allow_ranges: self.webhook_allow_ranges.clone(),
            ..podplane_auth::FetchLimits::default()
        };
        c
    }
}

#[derive(Args)]
pub struct NotificationsArgs {
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub notify: NotifyArgs,
    /// PostgreSQL URL of the notifications database (its own, never the storage database).
    #[arg(long = "database-url", env = "PODPLANE_NOTIFICATIONS_DATABASE_URL")]
    pub database_url: String,
    /// Pooled connections per replica.
    #[arg(long, env = "PODPLANE_DATABASE_MAX_CONNECTIONS", default_value_t = 8)]
    pub database_max_connections: u32,
    /// The storage whose resources are the topics.
    #[command(flatten)]
    pub storage: StorageLinkArgs,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Consumer group of webhook delivery, shared by every replica (each event is delivered
    /// once per channel).
    #[arg(
        long,
        env = "PODPLANE_NOTIFICATIONS_CONSUMER_GROUP",
        default_value = "podplane-notifications-webhooks"
    )]
    pub kafka_consumer_group: String,
}
