//! The SQLite metadata engine (embedded mode).
//!
//! Writes go through a pool of exactly one connection and start with `BEGIN IMMEDIATE`, so a
//! write transaction holds SQLite's single write lock from its first statement (another
//! process, like the pod CLI, waits instead of failing with SQLITE_BUSY); resource writes are
//! committed in groups (`sqlite_group`). Reads use a separate pool and, in WAL mode, never
//! wait for writes.

use crate::engine::{NewRow, PodSpec, WriteTx};
use crate::error::StoreError;
use crate::meta::*;
use crate::{detached, now_ms};
use podplane_events::Envelope;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// One of this engine's statements, from `sql/sqlite/`: every engine keeps the same statement
/// under the same file name, so the engines' differences are the only thing that differs
/// (`diff -r sql/sqlite sql/postgres`).
macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!("sql/sqlite/", $name, ".sql"))
    };
}

#[derive(Clone)]
pub struct SqliteMetadataStore {
    read: SqlitePool,
    write: SqlitePool,
    /// Resource writes, deletes and pod creations: committed in groups.
    writer: crate::sqlite_group::Writer,
}

impl SqliteMetadataStore {
    /// Opens (creating if needed) the database file and runs pending migrations.
    pub async fn open(file: &Path, base_url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit the client was told about survives power loss, not just a crash.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await?;
        // Base URL without trailing slash: events carry absolute IRIs.
        let base_url = base_url.trim_end_matches('/').to_owned();
        Ok(Self {
            read,
            writer: crate::sqlite_group::Writer::start(write.clone(), base_url),
            write,
        })
    }

    async fn begin(&self) -> Result<SqliteTx, StoreError> {
        SqliteTx::begin(&self.write).await
    }
}

/// A write transaction on the single write connection, with savepoints for group commit.
pub(crate) struct SqliteTx(Transaction<'static, Sqlite>);

impl SqliteTx {
    pub(crate) async fn begin(write: &SqlitePool) -> Result<Self, StoreError> {
        Ok(SqliteTx(write.begin_with("BEGIN IMMEDIATE").await?))
    }

    /// Marks where the next write of a group starts.
    pub(crate) async fn savepoint(&mut self) -> Result<(), StoreError> {
        sqlx::query("SAVEPOINT one_write")
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    /// Keeps the write since the savepoint.
    pub(crate) async fn release(&mut self) -> Result<(), StoreError> {
        sqlx::query("RELEASE one_write")
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    /// Undoes the write since the savepoint, keeping the group's others.
    pub(crate) async fn roll_back_to_savepoint(&mut self) -> Result<(), StoreError> {
        sqlx::query("ROLLBACK TO one_write")
            .execute(&mut *self.0)
            .await?;
        self.release().await
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        self.0.commit().await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl WriteTx for SqliteTx {
    async fn resource(&mut self, path: &str) -> Result<Option<Resource>, StoreError> {
        let row = sqlx::query(sql!("resource"))
            .bind(path)
            .fetch_optional(&mut *self.0)
            .await?;
        row.as_ref().map(crate::rows::resource).transpose()
    }

    async fn exists(&mut self, path: &str) -> Result<bool, StoreError> {
        let row = sqlx::query(sql!("exists"))
            .bind(path)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(row.is_some())
    }

    async fn has_children(&mut self, path: &str) -> Result<bool, StoreError> {
        let row = sqlx::query(sql!("has_children"))
            .bind(path)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(row.is_some())
    }

    async fn parent_of(&mut self, path: &str) -> Result<Option<String>, StoreError> {
        let parent: Option<Option<String>> = sqlx::query_scalar(sql!("parent_of"))
            .bind(path)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(parent.flatten())
    }

    async fn upsert(&mut self, row: &NewRow<'_>) -> Result<(), StoreError> {
        sqlx::query(sql!("upsert"))
            .bind(row.path)
            .bind(row.parent)
            .bind(row.kind.as_str())
            .bind(row.content_type)
            .bind(row.inline)
            .bind(row.blob_key)
            .bind(row.size)
            .bind(row.etag)
            .bind(row.now)
            .bind(row.creator)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn set_version(&mut self, path: &str, etag: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(sql!("set_version"))
            .bind(etag)
            .bind(now)
            .bind(path)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn delete_row(&mut self, path: &str) -> Result<(), StoreError> {
        sqlx::query(sql!("delete_row"))
            .bind(path)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn unpend_blob(&mut self, key: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(sql!("drop_pending_blob"))
            .bind(key)
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn mark_garbage(&mut self, key: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(sql!("mark_garbage"))
            .bind(key)
            .bind(now)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn enqueue(&mut self, env: &Envelope, now: i64) -> Result<(), StoreError> {
        sqlx::query(sql!("enqueue"))
            .bind(env.id.to_string())
            .bind(&env.topic)
            .bind(&env.key)
            .bind(&env.payload)
            .bind(now)
            .bind(&env.traceparent)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn insert_pod(&mut self, pod: &Pod) -> Result<(), StoreError> {
        sqlx::query(sql!("insert_pod"))
            .bind(&pod.name)
            .bind(&pod.owner)
            .bind(pod.access.as_str())
            .bind(pod.created_ms)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl MetadataStore for SqliteMetadataStore {
    async fn get(&self, path: &str) -> Result<Option<Resource>, StoreError> {
        let row = sqlx::query(sql!("resource"))
            .bind(path)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(crate::rows::resource).transpose()
    }

    async fn children(&self, container: &str) -> Result<Vec<ChildRow>, StoreError> {
        let rows = sqlx::query(sql!("children"))
            .bind(container)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(crate::rows::child).collect()
    }

    async fn write(&self, req: WriteRequest) -> Result<(Resource, bool), StoreError> {
        self.writer.write(req).await
    }

    async fn delete(&self, req: DeleteRequest) -> Result<(), StoreError> {
        self.writer.delete(req).await
    }

    async fn create_pod(&self, pod: NewPod<'_>) -> Result<Pod, StoreError> {
        self.writer.create_pod(PodSpec::from(pod)).await
    }

    async fn get_pod(&self, name: &str) -> Result<Option<Pod>, StoreError> {
        let row = sqlx::query(sql!("pod"))
            .bind(name)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(crate::rows::pod).transpose()
    }

    async fn list_pods(&self) -> Result<Vec<Pod>, StoreError> {
        let rows = sqlx::query(sql!("pods")).fetch_all(&self.read).await?;
        rows.iter().map(crate::rows::pod).collect()
    }

    async fn register_pending_blob(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        let this = self.clone();
        detached(async move {
            let key = key.as_str();
            sqlx::query(sql!("register_pending_blob"))
                .bind(key)
                .bind(now_ms())
                .execute(&this.write)
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
                .execute(&this.write)
                .await?;
            Ok(())
        })
        .await
    }

    async fn garbage(&self, before_ms: i64, limit: u32) -> Result<Vec<String>, StoreError> {
        let this = self.clone();
        detached(async move {
            // One writer at a time: a commit claiming one of these keys either ran before
            // (the key is no longer pending) or runs after and finds it gone.
            let mut tx = this.begin().await?;
            sqlx::query(sql!("expire_pending_blobs"))
                .bind(before_ms)
                .execute(&mut *tx.0)
                .await?;
            sqlx::query(sql!("drop_expired_pending_blobs"))
                .bind(before_ms)
                .execute(&mut *tx.0)
                .await?;
            tx.0.commit().await?;
            Ok(())
        })
        .await?;
        // A committed row never points to a garbage key, but check anyway so a bug elsewhere
        // cannot make GC delete live data.
        let rows = sqlx::query(sql!("garbage"))
            .bind(before_ms)
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| r.try_get("blob_key").map_err(StoreError::from))
            .collect()
    }

    async fn forget_garbage(&self, keys: &[String]) -> Result<(), StoreError> {
        let keys = keys.to_vec();
        let this = self.clone();
        detached(async move {
            let mut tx = this.begin().await?;
            for key in &keys {
                sqlx::query(sql!("forget_garbage"))
                    .bind(key)
                    .execute(&mut *tx.0)
                    .await?;
            }
            tx.0.commit().await?;
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
                .execute(&this.write)
                .await?;
            Ok(done.rows_affected() == 1)
        })
        .await
    }

    async fn purge_proofs(&self, now_ms: i64) -> Result<u64, StoreError> {
        let this = self.clone();
        detached(async move {
            let done = sqlx::query(sql!("purge_proofs"))
                .bind(now_ms)
                .execute(&this.write)
                .await?;
            Ok(done.rows_affected())
        })
        .await
    }

    async fn outbox_pending(&self, limit: u32) -> Result<Vec<(i64, Envelope)>, StoreError> {
        let rows = sqlx::query(sql!("outbox_pending"))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(crate::rows::envelope).collect()
    }

    async fn outbox_backlog(&self) -> Result<OutboxBacklog, StoreError> {
        let (pending, oldest_created_ms): (i64, Option<i64>) =
            sqlx::query_as(sql!("outbox_backlog"))
                .bind(BACKLOG_COUNT_CAP)
                .fetch_one(&self.read)
                .await?;
        Ok(OutboxBacklog {
            pending,
            oldest_created_ms,
        })
    }

    fn pool_stats(&self) -> PoolStats {
        let idle = |p: &SqlitePool| u32::try_from(p.num_idle()).unwrap_or(u32::MAX);
        PoolStats {
            size: self.read.size() + self.write.size(),
            idle: idle(&self.read) + idle(&self.write),
        }
    }

    async fn outbox_batch(&self, limit: u32) -> Result<Option<Box<dyn OutboxBatch>>, StoreError> {
        // One process, one relay: the lease is implicit.
        let events = self.outbox_pending(limit).await?;
        Ok(Some(Box::new(SqliteBatch {
            events,
            write: self.write.clone(),
        })))
    }
}

struct SqliteBatch {
    events: Vec<(i64, Envelope)>,
    write: SqlitePool,
}

#[async_trait::async_trait]
impl OutboxBatch for SqliteBatch {
    fn events(&self) -> &[(i64, Envelope)] {
        &self.events
    }

    async fn complete(self: Box<Self>, sent: &[i64]) -> Result<(), StoreError> {
        let (write, sent) = (self.write.clone(), sent.to_vec());
        detached(async move { mark_sent(&write, &sent).await }).await
    }
}

async fn mark_sent(write: &SqlitePool, sent: &[i64]) -> Result<(), StoreError> {
    let mut tx = write.begin_with("BEGIN IMMEDIATE").await?;
    let now = now_ms();
    for id in sent {
        sqlx::query(sql!("mark_sent"))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
