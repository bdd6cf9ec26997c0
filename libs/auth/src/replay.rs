//! The DPoP `jti` replay cache. One process keeps it in memory; replicas share a table in the
//! storage database (implemented by the metadata store, wired in by the service).

use crate::error::AuthError;
use std::time::Duration;

#[async_trait::async_trait]
pub trait ReplayCache: Send + Sync + 'static {
    /// Records `key` until `expires_at` (Unix seconds); `false` if it was already recorded.
    async fn first_use(&self, key: &str, expires_at: i64) -> Result<bool, AuthError>;
}

/// For a single process (embedded mode): entries live a little longer than any proof may.
pub struct MemoryReplayCache {
    seen: moka::sync::Cache<String, ()>,
}

impl MemoryReplayCache {
    pub fn new(window: Duration) -> Self {
        Self {
            seen: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(window)
                .build(),
        }
    }
}

#[async_trait::async_trait]
impl ReplayCache for MemoryReplayCache {
    async fn first_use(&self, key: &str, _expires_at: i64) -> Result<bool, AuthError> {
        Ok(self.seen.entry(key.to_owned()).or_insert(()).is_fresh())
    }
}
