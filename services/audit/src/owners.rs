//! Who owns a pod, as the storage service knows it: the owner may read the pod's audit trail.
//! Asked over storage's internal endpoint (distributed mode) or in process (embedded mode).

use crate::error::{AuditError, AuditResult};
use serde::Deserialize;

#[async_trait::async_trait]
pub trait PodOwners: Send + Sync + 'static {
    /// The owner's WebID of the live pod `name`; `None` when there is no such pod (or it has
    /// no owner).
    async fn owner(&self, name: &str) -> AuditResult<Option<String>>;
}

/// The storage service's internal endpoint, authenticated with the shared secret.
pub struct StorageHttp {
    client: reqwest::Client,
    /// `{storage}/.internal/pods`.
    url: String,
    secret: String,
}

impl StorageHttp {
    /// `storage_url`: where this process reaches the storage service.
    pub fn new(storage_url: &str, secret: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            url: format!("{}/.internal/pods", storage_url.trim_end_matches('/')),
            secret: secret.to_owned(),
        }
    }
}

#[derive(Deserialize)]
struct Pod {
    owner: Option<String>,
}

#[async_trait::async_trait]
impl PodOwners for StorageHttp {
    async fn owner(&self, name: &str) -> AuditResult<Option<String>> {
        let url = format!("{}/{name}", self.url);
        let unavailable = |e: String| AuditError::Unavailable(format!("storage service: {e}"));
        let res = self
            .client
            .get(&url)
            .bearer_auth(&self.secret)
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        match res.status() {
            s if s.is_success() => {
                let pod: Pod = res.json().await.map_err(|e| unavailable(e.to_string()))?;
                Ok(pod.owner)
            }
            reqwest::StatusCode::NOT_FOUND => Ok(None),
            s => Err(unavailable(format!("{s} from {url}"))),
        }
    }
}
