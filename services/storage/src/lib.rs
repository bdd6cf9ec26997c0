//! Pod Storage: the Solid Protocol resource server.
//!
//! A thin shell of I/O around `podplane-solid`: it turns HTTP requests into protocol decisions,
//! reads and writes through the `podplane-store` traits, and maps every error to an RFC 9457
//! problem exactly once ([`error::ApiError`]). It owns no storage of its own and must not reach
//! into another service's database.

pub mod access;
pub mod archive;
pub mod audit;
pub mod config;
pub mod contexts;
pub mod cpu;
pub mod error;
pub mod http;
pub mod pods;
pub mod purger;
pub mod rebase;

pub use config::StorageConfig;
pub use http::router;

use podplane_store::{BlobStore, MetadataStore};
use std::sync::Arc;
use tokio::sync::Notify;

/// Everything a request handler needs. axum clones the state for every request, so it is one
/// `Arc` around [`Services`].
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Services {
    pub config: StorageConfig,
    pub meta: Arc<dyn MetadataStore>,
    pub blobs: Arc<dyn BlobStore>,
    /// Notified after each commit so the outbox relay publishes without waiting for its poll.
    pub outbox_wake: Arc<Notify>,
    pub contexts: contexts::ContextCache,
    /// Converted RDF representations and container listings, keyed by (path, ETag, media type).
    pub rendered: moka::sync::Cache<(String, String, &'static str), bytes::Bytes>,
    /// Solid-OIDC: who sent a request.
    pub verifier: Arc<podplane_auth::Verifier>,
    /// Who holds what where: the access control documents, read through the store.
    pub access: access::AccessControl,
    /// Where client documents are parsed and patches evaluated.
    pub cpu: cpu::CpuPool,
    /// Where reads and refusals are audited, without waiting.
    pub audit: audit::AuditTap,
    /// Names the base URL in the ETags of RDF representations (see `respond`).
    pub base_tag: String,
}

impl AppState {
    pub fn new(
        config: StorageConfig,
        meta: Arc<dyn MetadataStore>,
        blobs: Arc<dyn BlobStore>,
        verifier: Arc<podplane_auth::Verifier>,
    ) -> Self {
        let access = access::AccessControl::new(
            meta.clone(),
            blobs.clone(),
            config.base_url.clone(),
            config.stored_limits(),
            podplane_auth::Fetcher::new(verifier.config().fetch.clone()),
        );
        let contexts = contexts::ContextCache::new(config.jsonld_context_allow.clone());
        let rendered = moka::sync::Cache::builder()
            .max_capacity(config.rendered_cache_bytes)
            .weigher(|k: &(String, String, &'static str), v: &bytes::Bytes| {
                u32::try_from(k.0.len() + k.1.len() + v.len()).unwrap_or(u32::MAX)
            })
            .build();
        let cpu = cpu::CpuPool::new(config.cpu_jobs);
        let audit = audit::AuditTap::new(config.audit, config.audit_queue);
        let base_tag = base_tag(&config.base_url);
        Self(Arc::new(Services {
            base_tag,
            cpu,
            audit,
            config,
            meta,
            blobs,
            outbox_wake: Arc::new(Notify::new()),
            contexts,
            rendered,
            verifier,
            access,
        }))
    }
}

/// Eight hex digits of the base URL's SHA-256: enough to tell the bases one deployment has
/// served under apart.
fn base_tag(base_url: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(base_url.trim_end_matches('/').as_bytes());
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

impl Services {
    /// Writes through the metadata store, held to the pod's quota, and wakes the outbox relay
    /// once the change is committed.
    pub async fn write(
        &self,
        mut req: podplane_store::WriteRequest,
    ) -> Result<(podplane_store::Resource, bool), podplane_store::StoreError> {
        req.default_quota = self.config.default_quota_bytes;
        let done = self.meta.write(req).await?;
        self.outbox_wake.notify_one();
        Ok(done)
    }

    /// Deletes through the metadata store and wakes the outbox relay.
    pub async fn delete(
        &self,
        req: podplane_store::DeleteRequest,
    ) -> Result<(), podplane_store::StoreError> {
        self.meta.delete(req).await?;
        self.outbox_wake.notify_one();
        Ok(())
    }

    /// Absolute IRI of a path, built from the configured base URL, never from the Host header.
    pub fn iri(&self, path: &str) -> String {
        format!("{}{}", self.config.base_url, path)
    }

    /// The server's namespace: what stored documents write relative to themselves.
    pub fn root(&self) -> String {
        podplane_solid::rebase::root_of(&self.config.base_url)
    }
}
