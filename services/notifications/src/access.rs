//! Whether a subscriber may read a topic: the storage service decides, from the same access
//! documents it enforces. Two implementations: in the same process (embedded mode, provided
//! by the binary around the storage state) and over the storage service's internal HTTP
//! endpoint ([`StorageHttp`], distributed mode).

use crate::error::{NotifyError, NotifyResult};
use podplane_solid::access::Requester;
use serde::{Deserialize, Serialize};

/// What a requester may know about a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicView {
    pub readable: bool,
    /// The topic's current ETag, told only to readers (`None` when it does not exist).
    pub state: Option<String>,
}

#[async_trait::async_trait]
pub trait TopicAccess: Send + Sync + 'static {
    /// `path` is the topic's path in the storage (`/{pod}/…`).
    async fn view(&self, who: &Requester, path: &str) -> NotifyResult<TopicView>;
}

/// The question asked of the storage service's `POST /.internal/topic-access`.
#[derive(Debug, Serialize, Deserialize)]
pub struct TopicQuestion {
    pub path: String,
    pub webid: Option<String>,
    pub client_id: Option<String>,
    pub issuer: Option<String>,
}

/// The storage service's internal endpoint, authenticated with a shared secret.
pub struct StorageHttp {
    client: reqwest::Client,
    url: String,
    secret: String,
}

impl StorageHttp {
    /// `storage_url`: where this process reaches the storage service (a load balancer or a
    /// service name; not necessarily the public base URL).
    pub fn new(storage_url: &str, secret: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            url: format!(
                "{}{}",
                storage_url.trim_end_matches('/'),
                INTERNAL_TOPIC_ACCESS
            ),
            secret: secret.to_owned(),
        }
    }
}

/// Path of the storage service's internal access endpoint.
pub const INTERNAL_TOPIC_ACCESS: &str = "/.internal/topic-access";

#[async_trait::async_trait]
impl TopicAccess for StorageHttp {
    async fn view(&self, who: &Requester, path: &str) -> NotifyResult<TopicView> {
        let question = TopicQuestion {
            path: path.to_owned(),
            webid: who.webid.clone(),
            client_id: who.client_id.clone(),
            issuer: who.issuer.clone(),
        };
        let unavailable = |e: String| NotifyError::Unavailable(format!("storage service: {e}"));
        let res = self
            .client
            .post(&self.url)
            .bearer_auth(&self.secret)
            .json(&question)
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        if !res.status().is_success() {
            return Err(unavailable(format!("{} from {}", res.status(), self.url)));
        }
        res.json().await.map_err(|e| unavailable(e.to_string()))
    }
}
