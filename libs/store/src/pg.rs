//! The PostgreSQL metadata engine (distributed mode): the same model and write algorithm as
//! SQLite, shared by any number of stateless replicas.
//!
//! Writes to one pod are serialised with a transaction-scoped advisory lock on the pod name,
//! which gives every replica the single-writer view the shared algorithm relies on (slash twins,
//! emptiness checks, compare-and-swap) while writes to different pods run in parallel.

use crate::engine::{self, PodSpec};
use crate::error::StoreError;
use crate::meta::*;
use crate::outbox::STORED_BASE;
use crate::pod_deletion;
use crate::pod_import;
use crate::rewrite;
use crate::{detached, now_ms};
use podplane_events::Envelope;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Row, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// Connection settings for the storage database.
#[derive(Debug, Clone)]
pub struct PgSettings {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    pub max_connections: u32,
    /// Longest a statement may run before PostgreSQL cancels it.
    pub statement_timeout: Duration,
    /// Longest a request waits for a pooled connection before it is refused with 503.
    pub acquire_timeout: Duration,
}

impl PgSettings {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            max_connections: 16,
            statement_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

/// One of this engine's statements, from `sql/postgres/`: every engine keeps the same statement
/// under the same file name, so the engines' differences are the only thing that differs
/// (`diff -r sql/sqlite sql/postgres`).
macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/sql/postgres/",
            $name,
            ".sql"
        ))
    };
}

// After the macro: the transaction's statements use it too.
mod tx;
use tx::PgTx;

#[derive(Clone)]
pub struct PgMetadataStore {
    pool: PgPool,
    reads: crate::pg_reads::PointReads,
    base_url: String,
}

impl PgMetadataStore {
    /// Connects lazily (a replica starts even while the database is down and recovers by
    /// itself); call [`PgMetadataStore::migrate`] to apply the schema.
    pub fn connect(settings: &PgSettings, base_url: &str) -> Result<Self, StoreError> {
        let timeout_ms = settings.statement_timeout.as_millis().to_string();
        let options = PgConnectOptions::from_str(&settings.url)
            .map_err(|e| StoreError::Unavailable(format!("bad PostgreSQL URL: {e}")))?
            .options([("statement_timeout", timeout_ms.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            // No ping before each use: it doubles every round trip. A connection that died
            // with the server fails its next statement (a 503) and is replaced.
            .test_before_acquire(false)
            .connect_lazy_with(options);
        // Must be called inside a Tokio runtime: the batched point reads run on a task.
        let reads = crate::pg_reads::PointReads::start(pool.clone(), sql!("resources"));
        Ok(Self {
            pool,
            reads,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// Applies pending migrations (at start-up, or from `podplane migrate`).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    /// Begins a write transaction holding the pod's advisory lock.
    async fn begin(&self, pod: &str) -> Result<PgTx, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(sql!("lock_pod"))
            .bind(pod)
            .execute(&mut *tx)
            .await?;
        Ok(PgTx(tx))
    }
}

fn pod_of(path: &podplane_solid::path::ResourcePath) -> Result<&str, StoreError> {
    path.pod()
        .ok_or_else(|| StoreError::NotFound("no pod".into()))
}

#[async_trait::async_trait]
impl MetadataStore for PgMetadataStore {
    async fn get(&self, path: &str) -> Result<Option<Resource>, StoreError> {
        self.reads.get(path).await
    }

    async fn children(&self, container: &str) -> Result<Vec<ChildRow>, StoreError> {
        let rows = sqlx::query(sql!("children"))
            .bind(container)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(crate::rows::child).collect()
    }

    async fn write(&self, req: WriteRequest) -> Result<(Resource, bool), StoreError> {
        let this = self.clone();
        detached(async move {
            let mut tx = this.begin(pod_of(&req.path)?).await?;
            let done = engine::write(&mut tx, STORED_BASE, req).await?;
            tx.0.commit().await?;
            Ok(done)
        })
        .await
    }

    async fn delete(&self, req: DeleteRequest) -> Result<(), StoreError> {
        let this = self.clone();
        detached(async move {
            let mut tx = this.begin(pod_of(&req.path)?).await?;
            engine::delete(&mut tx, STORED_BASE, req).await?;
            tx.0.commit().await?;
            Ok(())
        })
        .await
    }

    async fn scan(
        &self,
        after: &str,
        before: &str,
        limit: u32,
    ) -> Result<Vec<Resource>, StoreError> {
        let rows = sqlx::query(sql!("scan"))
            .bind(after)
            .bind(before)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(crate::rows::resource).collect()
    }

    async fn rewrite(
        &self,
        path: &str,
        etag: &str,
        content: Content,
        size: u64,
    ) -> Result<bool, StoreError> {
        let (this, path, etag) = (self.clone(), path.to_owned(), etag.to_owned());
        detached(async move {
            let target = podplane_solid::path::ResourcePath::parse(&path)
                .map_err(|e| StoreError::NotFound(e.to_string()))?;
            let mut tx = this.begin(pod_of(&target)?).await?;
            let done = rewrite::rewrite(&mut tx, &path, &etag, &content, size).await?;
            tx.0.commit().await?;
            Ok(done)
        })
        .await
    }

    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(sql!("setting"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(v,)| v))
    }

    async fn set_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(sql!("set_setting"))
            .bind(name)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn begin_import(&self, pod: &Pod) -> Result<(), StoreError> {
        let (this, pod) = (self.clone(), pod.clone());
        detached(async move {
            let mut tx = this.begin(&pod.name).await?;
            pod_import::begin(&mut tx, &pod).await?;
            tx.0.commit().await?;
            Ok(())
        })
        .await
    }

    async fn import_rows(&self, name: &str, rows: Vec<ImportedRow>) -> Result<(), StoreError> {
        let (this, name) = (self.clone(), name.to_owned());
        detached(async move {
            let mut tx = this.begin(&name).await?;
            pod_import::add_rows(&mut tx, &name, &rows).await?;
            tx.0.commit().await?;
            Ok(())
        })
        .await
    }

    async fn finish_import(
        &self,
        name: &str,
        root: ImportedRow,
        owner: Option<&str>,
    ) -> Result<(), StoreError> {
        let (this, name, owner) = (self.clone(), name.to_owned(), owner.map(str::to_owned));
        detached(async move {
            let mut tx = this.begin(&name).await?;
            let base = STORED_BASE;
            pod_import::finish(&mut tx, base, &name, &root, owner.as_deref()).await?;
            tx.0.commit().await?;
            Ok(())
        })
        .await
    }

    async fn abandon_import(&self, name: &str) -> Result<bool, StoreError> {
        let (this, name) = (self.clone(), name.to_owned());
        detached(async move {
            let mut tx = this.begin(&name).await?;
            let done = pod_import::abandon(&mut tx, STORED_BASE, &name).await?;
            tx.0.commit().await?;
            Ok(done)
        })
        .await
    }

    async fn stalled_imports(&self, before_ms: i64) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(sql!("stalled_imports"))
            .bind(before_ms)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(name,)| name).collect())
    }

    async fn create_pod(&self, pod: NewPod<'_>) -> Result<Pod, StoreError> {
        let spec = PodSpec::from(pod);
        let this = self.clone();
        detached(async move {
            let mut tx = this.begin(&spec.name).await?;
            let pod = engine::create_pod(&mut tx, STORED_BASE, &spec).await?;
            tx.0.commit().await?;
            Ok(pod)
        })
        .await
    }

    async fn get_pod(&self, name: &str) -> Result<Option<Pod>, StoreError> {
        let row = sqlx::query(sql!("pod"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(crate::rows::pod).transpose()
    }

    async fn list_pods(&self) -> Result<Vec<Pod>, StoreError> {
        let rows = sqlx::query(sql!("pods")).fetch_all(&self.pool).await?;
        rows.iter().map(crate::rows::pod).collect()
    }

    async fn set_quota(&self, name: &str, quota: Option<u64>) -> Result<(), StoreError> {
        let changed = sqlx::query(sql!("set_quota"))
            .bind(name)
            .bind(quota.map(crate::meta::quota_column))
            .execute(&self.pool)
            .await?
            .rows_affected();
        match changed {
            0 => Err(StoreError::NotFound(format!("no pod named {name}"))),
            _ => Ok(()),
        }
    }

    async fn delete_pod(&self, name: &str, actor: Option<&str>) -> Result<PodDeletion, StoreError> {
        let (this, name, actor) = (self.clone(), name.to_owned(), actor.map(str::to_owned));
        detached(async move {
            let mut tx = this.begin(&name).await?;
            let done =
                pod_deletion::delete_pod(&mut tx, STORED_BASE, &name, actor.as_deref()).await?;
            tx.0.commit().await?;
            Ok(done)
        })
        .await
    }

    async fn deleted_pods(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(sql!("deleted_pods"))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(name,)| name).collect())
    }

    async fn purge_rows(&self, name: &str, limit: u32) -> Result<PurgedRows, StoreError> {
        let (this, name) = (self.clone(), name.to_owned());
        detached(async move {
            let mut tx = this.begin(&name).await?;
            let done = pod_deletion::purge_rows(&mut tx, &name, limit).await?;
            tx.0.commit().await?;
            Ok(done)
        })
        .await
    }

    async fn finish_purge(&self, name: &str) -> Result<bool, StoreError> {
        let (this, name) = (self.clone(), name.to_owned());
        detached(async move {
            let mut tx = this.begin(&name).await?;
            let done = pod_deletion::finish_purge(&mut tx, STORED_BASE, &name).await?;
            tx.0.commit().await?;
            Ok(done)
        })
        .await
    }

    async fn register_pending_blob(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        let this = self.clone();
        detached(async move {
            let key = key.as_str();
            sqlx::query(sql!("register_pending_blob"))
                .bind(key)
                .bind(now_ms())
                .execute(&this.pool)
                .await?;
            Ok(())
        })
        .await
    }

    async fn drop_pending_blob(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        let this = self.clone();
        detached(async move {
            let key = key.as_str();
            sqlx::query(sql!("drop_pending_blob"))
                .bind(key)
                .execute(&this.pool)
                .await?;
            Ok(())
        })
        .await
    }

    async fn garbage(&self, before_ms: i64, limit: u32) -> Result<Vec<String>, StoreError> {
        let this = self.clone();
        detached(async move {
            // The DELETE takes each pending row's lock: a commit claiming the same key either
            // deleted it first (and it is skipped here) or finds it gone and fails.
            sqlx::query(sql!("expire_pending_blobs"))
                .bind(before_ms)
                .execute(&this.pool)
                .await?;
            Ok(())
        })
        .await?;
        // A committed row never points to a garbage key, but check anyway so a bug elsewhere
        // cannot make GC delete live data.
        let rows = sqlx::query(sql!("garbage"))
            .bind(before_ms)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| r.try_get("blob_key").map_err(StoreError::from))
            .collect()
    }

    async fn forget_garbage(&self, keys: &[String]) -> Result<(), StoreError> {
        let keys = keys.to_vec();
        let this = self.clone();
        detached(async move {
            sqlx::query(sql!("forget_garbage"))
                .bind(keys.as_slice())
                .execute(&this.pool)
                .await?;
            Ok(())
        })
        .await
    }

    async fn claim_proof(&self, id: &str, expires_ms: i64) -> Result<bool, StoreError> {
        let (id, this) = (id.to_owned(), self.clone());
        detached(async move {
            let done = sqlx::query(sql!("claim_proof"))
                .bind(&id)
                .bind(expires_ms)
                .execute(&this.pool)
                .await?;
            Ok(done.rows_affected() == 1)
        })
        .await
    }

    async fn purge_proofs(&self, now_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(sql!("purge_proofs"))
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn outbox_pending(&self, limit: u32) -> Result<Vec<(i64, Envelope)>, StoreError> {
        let rows = sqlx::query(sql!("outbox_pending"))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        let base = &self.base_url;
        rows.iter()
            .map(|r| crate::rows::envelope(r, base))
            .collect()
    }

    async fn outbox_backlog(&self) -> Result<OutboxBacklog, StoreError> {
        let (pending, oldest_created_ms): (i64, Option<i64>) =
            sqlx::query_as(sql!("outbox_backlog"))
                .bind(BACKLOG_COUNT_CAP)
                .fetch_one(&self.pool)
                .await?;
        Ok(OutboxBacklog {
            pending,
            oldest_created_ms,
        })
    }

    fn pool_stats(&self) -> PoolStats {
        PoolStats {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        }
    }

    async fn outbox_batch(&self, limit: u32) -> Result<Option<Box<dyn OutboxBatch>>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let leased: bool = sqlx::query_scalar(sql!("lease_relay"))
            .bind(RELAY_LOCK)
            .fetch_one(&mut *tx)
            .await?;
        if !leased {
            return Ok(None);
        }
        let rows = sqlx::query(sql!("outbox_pending"))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        let events = rows
            .iter()
            .map(|r| crate::rows::envelope(r, &self.base_url))
            .collect::<Result<_, _>>()?;
        Ok(Some(Box::new(PgBatch { tx, events })))
    }
}

/// Advisory lock key of the outbox relay lease ("podplane relay").
const RELAY_LOCK: i64 = 0x706f_6470_6c61_6e65;

/// A lease held as an open transaction: it ends at commit, or at rollback when dropped (or when
/// the replica holding it dies and its connection closes).
struct PgBatch {
    tx: Transaction<'static, Postgres>,
    events: Vec<(i64, Envelope)>,
}

#[async_trait::async_trait]
impl OutboxBatch for PgBatch {
    fn events(&self) -> &[(i64, Envelope)] {
        &self.events
    }

    async fn complete(mut self: Box<Self>, sent: &[i64]) -> Result<(), StoreError> {
        sqlx::query(sql!("mark_sent"))
            .bind(now_ms())
            .bind(sent)
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        Ok(())
    }
}
