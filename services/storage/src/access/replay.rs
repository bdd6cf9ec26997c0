//! The DPoP replay cache of a replicated deployment: a table in the storage database, so a
//! proof used at one replica is refused at every other.

use podplane_auth::{AuthError, ReplayCache};
use podplane_store::MetadataStore;
use std::sync::Arc;

pub struct StoreReplayCache(pub Arc<dyn MetadataStore>);

#[async_trait::async_trait]
impl ReplayCache for StoreReplayCache {
    async fn first_use(&self, key: &str, expires_at: i64) -> Result<bool, AuthError> {
        self.0
            .claim_proof(key, expires_at.saturating_mul(1000))
            .await
            .map_err(|e| AuthError::Unavailable(e.to_string()))
    }
}
