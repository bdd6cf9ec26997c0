//! Notifications: the Solid Notifications Protocol's subscription server and the delivery of
//! its channels (WebSocketChannel2023, StreamingHTTPChannel2023, WebhookChannel2023), plus the
//! ESS 2.x notification gateway that `@inrupt/solid-client-notifications` speaks.
//!
//! A thin shell of I/O around `podplane_solid::notify`. Changes arrive as resource events
//! (`podplane.resource.v1`): [`hub::Hub`] pushes them to the sockets and streams this process
//! holds, [`webhook`] posts them to webhook channels. Channels live in this service's own
//! database ([`store::ChannelStore`]), so any replica serves any channel. Whether a subscriber
//! may read a topic is the storage service's decision ([`access::TopicAccess`]); this service
//! must not read the storage database.

pub mod access;
pub mod error;
mod http;
pub mod hub;
pub mod signing;
pub mod store;
pub mod webhook;
pub mod workers;

pub use access::{StorageHttp, TopicAccess, TopicView};
pub use error::NotifyError;
pub use http::{router, standalone_router};
/// Milliseconds since the Unix epoch (the one clock every service's rows use).
pub use podplane_store::now_ms;

use std::sync::Arc;
use std::time::Duration;

/// Settings; the binary fills them from flags and environment variables.
#[derive(Debug, Clone)]
pub struct NotificationsConfig {
    /// Public base URL of this service without trailing slash; its routes live under
    /// `{base_url}/.notifications/`.
    pub base_url: String,
    /// Public base URL of the storage whose resources are the topics.
    pub storage_base_url: String,
    /// How long a channel lives when the subscriber names no `endAt` (and at most).
    pub channel_ttl: Duration,
    /// Webhook delivery: attempts per notification and the first back-off (doubled each time).
    pub webhook_attempts: u32,
    pub webhook_backoff: Duration,
    pub webhook_timeout: Duration,
    /// Where webhooks may be sent (non-public targets are refused unless allowed here).
    pub webhook_targets: podplane_auth::FetchLimits,
}

impl NotificationsConfig {
    pub fn new(base_url: &str, storage_base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            storage_base_url: storage_base_url.trim_end_matches('/').to_owned(),
            channel_ttl: Duration::from_secs(24 * 3600),
            webhook_attempts: 4,
            webhook_backoff: Duration::from_millis(500),
            webhook_timeout: Duration::from_secs(10),
            webhook_targets: podplane_auth::FetchLimits::default(),
        }
    }

    /// `{base}/.notifications/` — every route of the service is below it.
    pub fn services_base(&self) -> String {
        format!("{}/.notifications/", self.base_url)
    }

    /// The path of a topic IRI inside the storage, or `None` for IRIs of other origins.
    pub fn topic_path<'a>(&self, topic: &'a str) -> Option<&'a str> {
        topic
            .strip_prefix(&self.storage_base_url)
            .filter(|p| p.starts_with('/'))
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
    pub config: NotificationsConfig,
    pub channels: store::ChannelStore,
    pub access: Arc<dyn TopicAccess>,
    pub verifier: Arc<podplane_auth::Verifier>,
    pub hub: hub::Hub,
    pub signer: signing::Signer,
    /// Posts webhooks to permitted targets only.
    pub webhooks: podplane_auth::Fetcher,
    /// Whether events reach the hub yet (a replica is not ready before it reads them).
    pub live_ready: std::sync::atomic::AtomicBool,
}

impl State {
    pub fn new(
        config: NotificationsConfig,
        channels: store::ChannelStore,
        access: Arc<dyn TopicAccess>,
        verifier: Arc<podplane_auth::Verifier>,
        signer: signing::Signer,
    ) -> Self {
        let mut targets = config.webhook_targets.clone();
        targets.timeout = config.webhook_timeout;
        Self(Arc::new(Inner {
            webhooks: podplane_auth::Fetcher::new(targets),
            config,
            channels,
            access,
            verifier,
            hub: hub::Hub::default(),
            live_ready: std::sync::atomic::AtomicBool::new(false),
            signer,
        }))
    }
}
