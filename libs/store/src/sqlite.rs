//! The SQLite metadata engine (embedded mode).
//!
//! Every mutation goes to one thread that owns the write connection (`sqlite_group`): it
//! commits concurrent writes in groups, each group one `BEGIN IMMEDIATE` transaction, so it
//! holds SQLite's single write lock from its first statement (another process, like the pod
//! CLI, waits instead of failing with SQLITE_BUSY). Reads use a separate sqlx pool and, in WAL
//! mode, never wait for writes. Migrations run through sqlx before the writer starts.

use crate::engine::{self, PodSpec};
use crate::error::StoreError;
use crate::meta::*;
use crate::now_ms;
use crate::outbox::STORED_BASE;
use crate::pod_deletion;
use crate::pod_import;
use crate::rewrite;
use crate::sqlite_group::{now, Writer};
use podplane_events::Envelope;
use rusqlite::{params, Connection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// One of this engine's statements, from `sql/sqlite/`: every engine keeps the same statement
/// under the same file name, so the engines' differences are the only thing that differs
/// (`diff -r sql/sqlite sql/postgres`).
macro_rules! sql {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/sql/sqlite/",
            $name,
            ".sql"
        ))
    };
}

// After the macro: the transaction's statements use it too.
mod tx;
pub(crate) use tx::SqliteTx;

#[derive(Clone)]
pub struct SqliteMetadataStore {
    read: SqlitePool,
    /// Every mutation, committed in groups by the thread that owns the write connection.
    writer: Writer,
    /// Without trailing slash: events carry absolute IRIs.
    base_url: Arc<str>,
}

impl SqliteMetadataStore {
    /// Opens (creating if needed) the database file and runs pending migrations.
    pub async fn open(file: &Path, base_url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit the client was told about survives power loss, not just a crash.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let migrator = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&migrator).await?;
        migrator.close().await;
        let file = file.to_owned();
        let conn = tokio::task::spawn_blocking(move || open_writer(&file))
            .await
            .map_err(|e| StoreError::Unavailable(format!("opening SQLite failed: {e}")))??;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self {
            read,
            writer: Writer::start(conn)?,
            base_url: base_url.trim_end_matches('/').into(),
        })
    }
}

/// Another process (the pod CLI) may hold the write lock for a moment: wait, don't fail.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The writer's connection, configured as the migrator's (the pragmas are per connection).
fn open_writer(file: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(file)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Every statement of `sql/sqlite/` stays prepared.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
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

    async fn get_many(&self, paths: &[String]) -> Result<Vec<Resource>, StoreError> {
        // One query, whatever the count: the paths travel as one JSON array, so the statement
        // text (and its cached preparation) is the same for every call.
        let rows = sqlx::query(sql!("resources"))
            .bind(serde_json::Value::from(paths).to_string())
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(crate::rows::resource).collect()
    }

    async fn children(&self, container: &str) -> Result<Vec<ChildRow>, StoreError> {
        let rows = sqlx::query(sql!("children"))
            .bind(container)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(crate::rows::child).collect()
    }

    async fn write(&self, req: WriteRequest) -> Result<(Resource, bool), StoreError> {
        let base = STORED_BASE;
        self.writer
            .run(move |c| now(engine::write(&mut SqliteTx(c), base, req)))
            .await
    }

    async fn delete(&self, req: DeleteRequest) -> Result<(), StoreError> {
        let base = STORED_BASE;
        self.writer
            .run(move |c| now(engine::delete(&mut SqliteTx(c), base, req)))
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
            .fetch_all(&self.read)
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
        let (path, etag) = (path.to_owned(), etag.to_owned());
        self.writer
            .run(move |c| {
                now(rewrite::rewrite(
                    &mut SqliteTx(c),
                    &path,
                    &etag,
                    &content,
                    size,
                ))
            })
            .await
    }

    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(sql!("setting"))
            .bind(name)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.map(|(v,)| v))
    }

    async fn set_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let (name, value) = (name.to_owned(), value.to_owned());
        self.writer
            .run(move |c| SqliteTx(c).execute(sql!("set_setting"), params![name, value]))
            .await?;
        Ok(())
    }

    async fn begin_import(&self, pod: &Pod) -> Result<(), StoreError> {
        let pod = pod.clone();
        self.writer
            .run(move |c| now(pod_import::begin(&mut SqliteTx(c), &pod)))
            .await
    }

    async fn import_rows(&self, name: &str, rows: Vec<ImportedRow>) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.writer
            .run(move |c| now(pod_import::add_rows(&mut SqliteTx(c), &name, &rows)))
            .await
    }

    async fn finish_import(
        &self,
        name: &str,
        root: ImportedRow,
        owner: Option<&str>,
    ) -> Result<(), StoreError> {
        let (base, name, owner) = (STORED_BASE, name.to_owned(), owner.map(str::to_owned));
        self.writer
            .run(move |c| {
                let tx = &mut SqliteTx(c);
                now(pod_import::finish(tx, base, &name, &root, owner.as_deref()))
            })
            .await
    }

    async fn abandon_import(&self, name: &str) -> Result<bool, StoreError> {
        let (base, name) = (STORED_BASE, name.to_owned());
        self.writer
            .run(move |c| now(pod_import::abandon(&mut SqliteTx(c), base, &name)))
            .await
    }

    async fn stalled_imports(&self, before_ms: i64) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(sql!("stalled_imports"))
            .bind(before_ms)
            .fetch_all(&self.read)
            .await?;
        Ok(rows.into_iter().map(|(name,)| name).collect())
    }

    async fn create_pod(&self, pod: NewPod<'_>) -> Result<Pod, StoreError> {
        let (base, spec) = (STORED_BASE, PodSpec::from(pod));
        self.writer
            .run(move |c| now(engine::create_pod(&mut SqliteTx(c), base, &spec)))
            .await
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

    async fn set_quota(&self, name: &str, quota: Option<u64>) -> Result<(), StoreError> {
        let (pod, quota) = (name.to_owned(), quota.map(quota_column));
        let changed = self
            .writer
            .run(move |c| SqliteTx(c).execute(sql!("set_quota"), params![pod, quota]))
            .await?;
        match changed {
            0 => Err(StoreError::NotFound(format!("no pod named {name}"))),
            _ => Ok(()),
        }
    }

    async fn delete_pod(&self, name: &str, actor: Option<&str>) -> Result<PodDeletion, StoreError> {
        let (base, name, actor) = (STORED_BASE, name.to_owned(), actor.map(str::to_owned));
        self.writer
            .run(move |c| {
                now(pod_deletion::delete_pod(
                    &mut SqliteTx(c),
                    base,
                    &name,
                    actor.as_deref(),
                ))
            })
            .await
    }

    async fn deleted_pods(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(sql!("deleted_pods"))
            .fetch_all(&self.read)
            .await?;
        Ok(rows.into_iter().map(|(name,)| name).collect())
    }

    async fn purge_rows(&self, name: &str, limit: u32) -> Result<PurgedRows, StoreError> {
        let name = name.to_owned();
        self.writer
            .run(move |c| now(pod_deletion::purge_rows(&mut SqliteTx(c), &name, limit)))
            .await
    }

    async fn finish_purge(&self, name: &str) -> Result<bool, StoreError> {
        let (base, name) = (STORED_BASE, name.to_owned());
        self.writer
            .run(move |c| now(pod_deletion::finish_purge(&mut SqliteTx(c), base, &name)))
            .await
    }

    async fn register_pending_blob(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.writer
            .run(move |c| {
                SqliteTx(c).execute(sql!("register_pending_blob"), params![key, now_ms()])
            })
            .await?;
        Ok(())
    }

    async fn drop_pending_blob(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.writer
            .run(move |c| SqliteTx(c).execute(sql!("drop_pending_blob"), [key]))
            .await?;
        Ok(())
    }

    async fn garbage(&self, before_ms: i64, limit: u32) -> Result<Vec<String>, StoreError> {
        // The writer runs one job at a time: a commit claiming one of these keys either ran
        // before (the key is no longer pending) or runs after and finds it gone.
        self.writer
            .run(move |c| {
                let mut tx = SqliteTx(c);
                tx.execute(sql!("expire_pending_blobs"), [before_ms])?;
                tx.execute(sql!("drop_expired_pending_blobs"), [before_ms])?;
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
        self.writer
            .run(move |c| {
                let mut tx = SqliteTx(c);
                for key in &keys {
                    tx.execute(sql!("forget_garbage"), [key])?;
                }
                Ok(())
            })
            .await
    }

    async fn claim_proof(&self, id: &str, expires_ms: i64) -> Result<bool, StoreError> {
        let id = id.to_owned();
        let claimed = self
            .writer
            .run(move |c| SqliteTx(c).execute(sql!("claim_proof"), params![id, expires_ms]))
            .await?;
        Ok(claimed == 1)
    }

    async fn purge_proofs(&self, now_ms: i64) -> Result<u64, StoreError> {
        let purged = self
            .writer
            .run(move |c| SqliteTx(c).execute(sql!("purge_proofs"), [now_ms]))
            .await?;
        Ok(u64::try_from(purged).unwrap_or(u64::MAX))
    }

    async fn outbox_pending(&self, limit: u32) -> Result<Vec<(i64, Envelope)>, StoreError> {
        let rows = sqlx::query(sql!("outbox_pending"))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
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
                .fetch_one(&self.read)
                .await?;
        Ok(OutboxBacklog {
            pending,
            oldest_created_ms,
        })
    }

    fn pool_stats(&self) -> PoolStats {
        // The writer's connection counts as one busy connection.
        PoolStats {
            size: self.read.size() + 1,
            idle: u32::try_from(self.read.num_idle()).unwrap_or(u32::MAX),
        }
    }

    async fn outbox_batch(&self, limit: u32) -> Result<Option<Box<dyn OutboxBatch>>, StoreError> {
        // One process, one relay: the lease is implicit.
        let events = self.outbox_pending(limit).await?;
        Ok(Some(Box::new(SqliteBatch {
            events,
            writer: self.writer.clone(),
        })))
    }
}

struct SqliteBatch {
    events: Vec<(i64, Envelope)>,
    writer: Writer,
}

#[async_trait::async_trait]
impl OutboxBatch for SqliteBatch {
    fn events(&self) -> &[(i64, Envelope)] {
        &self.events
    }

    async fn complete(self: Box<Self>, sent: &[i64]) -> Result<(), StoreError> {
        let sent = sent.to_vec();
        self.writer
            .run(move |c| {
                let (mut tx, now) = (SqliteTx(c), now_ms());
                for id in &sent {
                    tx.execute(sql!("mark_sent"), params![now, id])?;
                }
                Ok(())
            })
            .await
    }
}
