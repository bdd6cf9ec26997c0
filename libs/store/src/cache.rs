//! A read-through cache of resource rows for a process that is the only one changing existing
//! rows (embedded mode). Other processes may add rows: the pod CLI creates pods (`/{pod}/` and
//! its `/{pod}/.acl`), which is why misses are cached only for paths the CLI never creates.
//! Those negative entries matter: every request looks up the access control resources of the
//! target and its ancestors, and most of them do not exist.
//!
//! Staleness is ruled out by an epoch: a reader remembers the epoch before reading the
//! database and stores its row only if no write finished since; a write bumps the epoch and
//! evicts what it changed under the same lock. A row read before a commit therefore either
//! lands before the eviction (and is evicted) or is refused.

use crate::error::StoreError;
use crate::meta::*;
use podplane_events::Envelope;
use std::sync::{Arc, Mutex};

pub struct CachedMetadataStore {
    inner: Arc<dyn MetadataStore>,
    /// `None` records a row known not to exist.
    rows: moka::sync::Cache<String, Option<Arc<Resource>>>,
    epoch: Mutex<u64>,
}

impl CachedMetadataStore {
    /// `max_bytes` bounds the memory held by cached rows (inline content included).
    pub fn new(inner: Arc<dyn MetadataStore>, max_bytes: u64) -> Self {
        let rows = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|k: &String, r: &Option<Arc<Resource>>| {
                let content = match r.as_ref().map(|r| &r.content) {
                    Some(Content::Inline(b)) => b.len(),
                    _ => 0,
                };
                u32::try_from(k.len() * 2 + content + 256).unwrap_or(u32::MAX)
            })
            .build();
        Self {
            inner,
            rows,
            epoch: Mutex::new(0),
        }
    }

    fn epoch(&self) -> u64 {
        self.epoch.lock().map(|e| *e).unwrap_or(u64::MAX)
    }

    /// After a write: bump the epoch and evict every row the write may have changed.
    fn changed(&self, paths: impl IntoIterator<Item = String>) {
        match self.epoch.lock() {
            Ok(mut e) => {
                *e += 1;
                for p in paths {
                    self.rows.invalidate(&p);
                }
            }
            // A poisoned lock means a panic mid-eviction: trust nothing cached.
            Err(_) => self.rows.invalidate_all(),
        }
    }
}

impl CachedMetadataStore {
    /// After a change to rows the cache cannot name one by one.
    fn forget_all(&self) {
        if let Ok(mut e) = self.epoch.lock() {
            *e += 1;
        }
        self.rows.invalidate_all();
    }
}

/// Whether a missing row may be remembered as missing: not a pod root, its slash twin or its
/// access control resource, which the pod CLI creates from another process.
fn miss_is_cacheable(path: &str) -> bool {
    let segments = path.trim_matches('/').split('/').count();
    segments >= 2 && !(segments == 2 && path.ends_with("/.acl"))
}

/// Every row a write or delete of `path` can touch: itself, its ancestors (created or given a
/// new ETag) and, for auxiliaries, nothing else.
fn affected(path: &podplane_solid::path::ResourcePath) -> Vec<String> {
    let mut out = vec![path.as_str().to_owned()];
    let mut current = path.parent();
    while let Some(p) = current {
        current = p.parent();
        out.push(p.as_str().to_owned());
    }
    out
}

#[async_trait::async_trait]
impl MetadataStore for CachedMetadataStore {
    async fn get(&self, path: &str) -> Result<Option<Resource>, StoreError> {
        if let Some(hit) = self.rows.get(path) {
            return Ok(hit.map(|r| Resource::clone(&r)));
        }
        let before = self.epoch();
        let row = self.inner.get(path).await?;
        if row.is_some() || miss_is_cacheable(path) {
            if let Ok(e) = self.epoch.lock() {
                if *e == before {
                    self.rows.insert(path.to_owned(), row.clone().map(Arc::new));
                }
            }
        }
        Ok(row)
    }

    async fn get_many(&self, paths: &[String]) -> Result<Vec<Resource>, StoreError> {
        let mut found = Vec::with_capacity(paths.len());
        let mut misses = Vec::new();
        for path in paths {
            match self.rows.get(path) {
                Some(hit) => found.extend(hit.map(|r| Resource::clone(&r))),
                None => misses.push(path.clone()),
            }
        }
        if misses.is_empty() {
            return Ok(found);
        }
        let before = self.epoch();
        let rows = self.inner.get_many(&misses).await?;
        if let Ok(e) = self.epoch.lock() {
            if *e == before {
                for path in &misses {
                    let row = rows.iter().find(|r| &r.path == path);
                    if row.is_some() || miss_is_cacheable(path) {
                        self.rows
                            .insert(path.clone(), row.map(|r| Arc::new(r.clone())));
                    }
                }
            }
        }
        found.extend(rows);
        Ok(found)
    }

    async fn children(&self, container: &str) -> Result<Vec<ChildRow>, StoreError> {
        self.inner.children(container).await
    }

    async fn write(&self, req: WriteRequest) -> Result<(Resource, bool), StoreError> {
        let paths = affected(&req.path);
        let result = self.inner.write(req).await;
        // Evict even on error: a failure after commit (a lost connection) must not leave an
        // old row behind.
        self.changed(paths);
        result
    }

    async fn delete(&self, req: DeleteRequest) -> Result<(), StoreError> {
        let mut paths = affected(&req.path);
        paths.extend(req.auxiliaries.iter().map(|a| a.as_str().to_owned()));
        let result = self.inner.delete(req).await;
        self.changed(paths);
        result
    }

    async fn scan(
        &self,
        after: &str,
        before: &str,
        limit: u32,
    ) -> Result<Vec<Resource>, StoreError> {
        self.inner.scan(after, before, limit).await
    }
    async fn rewrite(
        &self,
        path: &str,
        etag: &str,
        content: crate::Content,
        size: u64,
    ) -> Result<bool, StoreError> {
        let result = self.inner.rewrite(path, etag, content, size).await;
        self.changed([path.to_owned()]);
        result
    }
    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.inner.setting(name).await
    }
    async fn set_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        self.inner.set_setting(name, value).await
    }
    async fn begin_import(&self, pod: &Pod) -> Result<(), StoreError> {
        self.inner.begin_import(pod).await
    }
    async fn import_rows(
        &self,
        name: &str,
        rows: Vec<crate::ImportedRow>,
    ) -> Result<(), StoreError> {
        self.inner.import_rows(name, rows).await
    }
    async fn finish_import(
        &self,
        name: &str,
        root: crate::ImportedRow,
        owner: Option<&str>,
    ) -> Result<(), StoreError> {
        let result = self.inner.finish_import(name, root, owner).await;
        // Misses inside the pod may have been remembered while it was invisible.
        self.forget_all();
        result
    }
    async fn abandon_import(&self, name: &str) -> Result<bool, StoreError> {
        self.inner.abandon_import(name).await
    }
    async fn stalled_imports(&self, before_ms: i64) -> Result<Vec<String>, StoreError> {
        self.inner.stalled_imports(before_ms).await
    }
    async fn create_pod(&self, pod: NewPod<'_>) -> Result<Pod, StoreError> {
        self.inner.create_pod(pod).await
    }
    async fn get_pod(&self, name: &str) -> Result<Option<Pod>, StoreError> {
        self.inner.get_pod(name).await
    }
    async fn list_pods(&self) -> Result<Vec<Pod>, StoreError> {
        self.inner.list_pods().await
    }
    async fn set_quota(&self, name: &str, quota: Option<u64>) -> Result<(), StoreError> {
        self.inner.set_quota(name, quota).await
    }
    async fn delete_pod(&self, name: &str, actor: Option<&str>) -> Result<PodDeletion, StoreError> {
        let result = self.inner.delete_pod(name, actor).await;
        self.changed([format!("/{name}/")]);
        result
    }
    async fn deleted_pods(&self) -> Result<Vec<String>, StoreError> {
        self.inner.deleted_pods().await
    }
    async fn purge_rows(&self, name: &str, limit: u32) -> Result<PurgedRows, StoreError> {
        let result = self.inner.purge_rows(name, limit).await;
        // The pod's rows are unreachable (its root is gone), but a pod made later under the
        // same name must not find them: forget everything, a pod deletion is rare.
        self.forget_all();
        result
    }
    async fn finish_purge(&self, name: &str) -> Result<bool, StoreError> {
        let result = self.inner.finish_purge(name).await;
        self.forget_all();
        result
    }
    async fn register_pending_blob(&self, key: &str) -> Result<(), StoreError> {
        self.inner.register_pending_blob(key).await
    }
    async fn drop_pending_blob(&self, key: &str) -> Result<(), StoreError> {
        self.inner.drop_pending_blob(key).await
    }
    async fn garbage(&self, before_ms: i64, limit: u32) -> Result<Vec<String>, StoreError> {
        self.inner.garbage(before_ms, limit).await
    }
    async fn forget_garbage(&self, keys: &[String]) -> Result<(), StoreError> {
        self.inner.forget_garbage(keys).await
    }
    async fn claim_proof(&self, id: &str, expires_ms: i64) -> Result<bool, StoreError> {
        self.inner.claim_proof(id, expires_ms).await
    }
    async fn purge_proofs(&self, now_ms: i64) -> Result<u64, StoreError> {
        self.inner.purge_proofs(now_ms).await
    }
    async fn outbox_pending(&self, limit: u32) -> Result<Vec<(i64, Envelope)>, StoreError> {
        self.inner.outbox_pending(limit).await
    }
    async fn outbox_batch(&self, limit: u32) -> Result<Option<Box<dyn OutboxBatch>>, StoreError> {
        self.inner.outbox_batch(limit).await
    }
    async fn outbox_backlog(&self) -> Result<OutboxBacklog, StoreError> {
        self.inner.outbox_backlog().await
    }
    fn pool_stats(&self) -> PoolStats {
        self.inner.pool_stats()
    }
}
