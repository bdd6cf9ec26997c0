//! Making the pod itself is the storage service's job: its root, owner and access control in
//! one transaction of the storage database, which this service must not touch. So are a
//! pod's figures (bytes used, quota) and setting its quota. Two
//! implementations: in the same process (embedded mode and `podplane pod create`, provided by
//! the binary around the storage crate's `pods::create`) and over the storage service's
//! internal endpoint ([`StorageHttp`], distributed mode).

use crate::error::{ProvisionError, ProvisionResult};
use serde::{Deserialize, Serialize};

/// A pod for the storage service to make (the wire shape of its `POST /.internal/pods`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodOrder {
    pub name: String,
    pub owner: String,
    /// `acp` or `wac`.
    pub access: String,
}

/// What the storage service answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Made {
    /// The pod exists now (made by this order or an earlier copy of it); its root IRI.
    Pod(String),
    /// Another owner holds a pod of that name.
    Taken,
}

/// A pod's figures, as storage keeps them (the wire shape of its `GET /.internal/pods…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodUsage {
    pub name: String,
    pub owner: Option<String>,
    pub access: String,
    pub used_bytes: u64,
    /// The quota that applies (the pod's own, else the default); `None`: unlimited.
    pub quota_bytes: Option<u64>,
    pub own_quota: bool,
}

/// Where storage is with a pod deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purge {
    /// The pod is deleted (gone for clients); its rows and blobs are being removed.
    Running,
    /// Storage has no such pod: purged (or never there).
    Done,
}

#[async_trait::async_trait]
pub trait PodStorage: Send + Sync + 'static {
    /// Makes the pod; the same order carried out again answers the same (orders are retried
    /// after crashes and lost answers).
    async fn create(&self, order: &PodOrder) -> ProvisionResult<Made>;
    /// One pod's figures; `None` when storage has no such pod.
    async fn usage(&self, name: &str) -> ProvisionResult<Option<PodUsage>>;
    /// Every pod's figures, by name.
    async fn all_usage(&self) -> ProvisionResult<Vec<PodUsage>>;
    /// Sets (`None`: clears) a pod's own quota; `false` when there is no such pod.
    async fn set_quota(&self, name: &str, bytes: Option<u64>) -> ProvisionResult<bool>;
    /// Deletes the pod (at once for clients; purged later), or, when it was deleted before,
    /// tells whether its purge is done: the same order is sent again until it is.
    /// `actor`: who asked.
    async fn delete(&self, name: &str, actor: &str) -> ProvisionResult<Purge>;
}

/// The storage service's internal endpoint, authenticated with a shared secret.
pub struct StorageHttp {
    client: reqwest::Client,
    /// `{storage}/.internal/pods`.
    url: String,
    secret: String,
}

/// Path of the storage service's internal pod endpoint.
pub const INTERNAL_PODS: &str = "/.internal/pods";

impl StorageHttp {
    /// `storage_url`: where this process reaches the storage service (a load balancer or a
    /// service name; not necessarily the public base URL).
    pub fn new(storage_url: &str, secret: &str) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            url: format!("{}{INTERNAL_PODS}", storage_url.trim_end_matches('/')),
            secret: secret.to_owned(),
        }
    }
}

#[derive(Deserialize)]
struct CreatedPod {
    storage: String,
}

#[async_trait::async_trait]
impl PodStorage for StorageHttp {
    async fn create(&self, order: &PodOrder) -> ProvisionResult<Made> {
        let res = self.send(self.client.post(&self.url).json(order)).await?;
        match res.status() {
            s if s.is_success() => {
                let made: CreatedPod = res.json().await.map_err(unavailable)?;
                Ok(Made::Pod(made.storage))
            }
            reqwest::StatusCode::CONFLICT => Ok(Made::Taken),
            // The order was checked before it was sent; storage refusing it means the two
            // services disagree on the rules, not that the client asked for something wrong.
            reqwest::StatusCode::BAD_REQUEST => Err(ProvisionError::Internal(format!(
                "the storage service refused the order for {}: {}",
                order.name,
                res.text().await.unwrap_or_default()
            ))),
            s => Err(unavailable(format!("{s} from {}", self.url))),
        }
    }

    async fn usage(&self, name: &str) -> ProvisionResult<Option<PodUsage>> {
        let url = format!("{}/{name}", self.url);
        let res = self.send(self.client.get(&url)).await?;
        match res.status() {
            s if s.is_success() => Ok(Some(res.json().await.map_err(unavailable)?)),
            reqwest::StatusCode::NOT_FOUND => Ok(None),
            s => Err(unavailable(format!("{s} from {url}"))),
        }
    }

    async fn all_usage(&self) -> ProvisionResult<Vec<PodUsage>> {
        let res = self.send(self.client.get(&self.url)).await?;
        match res.status() {
            s if s.is_success() => res.json().await.map_err(unavailable),
            s => Err(unavailable(format!("{s} from {}", self.url))),
        }
    }

    async fn set_quota(&self, name: &str, bytes: Option<u64>) -> ProvisionResult<bool> {
        let url = format!("{}/{name}/quota", self.url);
        let body = serde_json::json!({ "bytes": bytes });
        let res = self.send(self.client.put(&url).json(&body)).await?;
        match res.status() {
            s if s.is_success() => Ok(true),
            reqwest::StatusCode::NOT_FOUND => Ok(false),
            s => Err(unavailable(format!("{s} from {url}"))),
        }
    }

    async fn delete(&self, name: &str, actor: &str) -> ProvisionResult<Purge> {
        let url = format!("{}/{name}", self.url);
        let body = serde_json::json!({ "actor": actor });
        let res = self.send(self.client.delete(&url).json(&body)).await?;
        match res.status() {
            s if s.is_success() => Ok(Purge::Running),
            reqwest::StatusCode::NOT_FOUND => Ok(Purge::Done),
            s => Err(unavailable(format!("{s} from {url}"))),
        }
    }
}

impl StorageHttp {
    async fn send(&self, req: reqwest::RequestBuilder) -> ProvisionResult<reqwest::Response> {
        req.bearer_auth(&self.secret)
            .send()
            .await
            .map_err(unavailable)
    }
}

fn unavailable(e: impl std::fmt::Display) -> ProvisionError {
    ProvisionError::Unavailable(format!("storage service: {e}"))
}
