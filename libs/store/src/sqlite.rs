//! The SQLite metadata engine (embedded mode).
//!
//! Writes go through a pool of exactly one connection, so SQLite's single-writer rule never
//! surfaces as SQLITE_BUSY; reads use a separate pool and, in WAL mode, never wait for writes.

use crate::error::StoreError;
use crate::meta::*;
use crate::now_ms;
use podplane_events::{Envelope, ResourceEvent, ResourceEventKind};
use podplane_solid::path::ResourcePath;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqliteConnection, SqlitePool};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

pub struct SqliteMetadataStore {
    read: SqlitePool,
    write: SqlitePool,
    /// Base URL without trailing slash; events carry absolute IRIs.
    base_url: String,
}

const RESOURCE_COLUMNS: &str =
    "path, kind, content_type, inline, blob_key, size, etag, modified_ms";

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
        Ok(Self {
            read,
            write,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    fn iri(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    fn event(
        &self,
        kind: ResourceEventKind,
        path: &str,
        target: Option<&str>,
        state: Option<&str>,
        actor: &Option<String>,
    ) -> ResourceEvent {
        ResourceEvent {
            id: Uuid::new_v4(),
            kind,
            object: self.iri(path),
            target: target.map(|t| self.iri(t)),
            state: state.map(str::to_owned),
            media_type: None,
            size: None,
            actor: actor.clone(),
            published_ms: now_ms(),
        }
    }
}

fn new_etag() -> String {
    format!("\"{}\"", Uuid::new_v4().simple())
}

fn resource_from_row(row: &SqliteRow) -> Result<Resource, StoreError> {
    let inline: Option<Vec<u8>> = row.try_get("inline")?;
    let blob: Option<String> = row.try_get("blob_key")?;
    let content = match (inline, blob) {
        (Some(bytes), _) => Content::Inline(bytes),
        (None, Some(key)) => Content::Blob(key),
        (None, None) => Content::Empty,
    };
    Ok(Resource {
        path: row.try_get("path")?,
        kind: Kind::parse(row.try_get("kind")?)?,
        content_type: row.try_get("content_type")?,
        content,
        size: u64::try_from(row.try_get::<i64, _>("size")?).unwrap_or(0),
        etag: row.try_get("etag")?,
        modified_ms: row.try_get("modified_ms")?,
    })
}

async fn fetch_resource(
    conn: &mut SqliteConnection,
    path: &str,
) -> Result<Option<Resource>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM resources WHERE path = ?"
    ))
    .bind(path)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(resource_from_row).transpose()
}

async fn exists(conn: &mut SqliteConnection, path: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("SELECT 1 FROM resources WHERE path = ?")
        .bind(path)
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

async fn queue(conn: &mut SqliteConnection, events: &[ResourceEvent]) -> Result<(), StoreError> {
    let now = now_ms();
    for e in events {
        let env = e.envelope();
        sqlx::query(
            "INSERT INTO outbox (event_id, topic, key, payload, created_ms) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(env.id.to_string())
        .bind(&env.topic)
        .bind(&env.key)
        .bind(&env.payload)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn mark_garbage(conn: &mut SqliteConnection, key: &str) -> Result<(), StoreError> {
    sqlx::query("INSERT OR IGNORE INTO garbage_blobs (blob_key, since_ms) VALUES (?, ?)")
        .bind(key)
        .bind(now_ms())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A container's representation includes its members, so membership changes give it a new
/// ETag and modification time.
async fn touch_container(
    conn: &mut SqliteConnection,
    path: &str,
    now: i64,
) -> Result<String, StoreError> {
    let etag = new_etag();
    sqlx::query("UPDATE resources SET etag = ?, modified_ms = ? WHERE path = ?")
        .bind(&etag)
        .bind(now)
        .bind(path)
        .execute(&mut *conn)
        .await?;
    Ok(etag)
}

#[async_trait::async_trait]
impl MetadataStore for SqliteMetadataStore {
    async fn get(&self, path: &str) -> Result<Option<Resource>, StoreError> {
        let mut conn = self.read.acquire().await?;
        fetch_resource(&mut conn, path).await
    }

    async fn children(&self, container: &str) -> Result<Vec<ChildRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT path, kind, content_type, size, modified_ms FROM resources WHERE parent = ? ORDER BY path",
        )
        .bind(container)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ChildRow {
                    path: r.try_get("path")?,
                    kind: Kind::parse(r.try_get("kind")?)?,
                    content_type: r.try_get("content_type")?,
                    size: u64::try_from(r.try_get::<i64, _>("size")?).unwrap_or(0),
                    modified_ms: r.try_get("modified_ms")?,
                })
            })
            .collect()
    }

    async fn write(&self, req: WriteRequest) -> Result<(Resource, bool), StoreError> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let now = now_ms();
        let path = req.path.as_str();
        let pod_root = req
            .path
            .pod_root()
            .ok_or_else(|| StoreError::NotFound("no pod".into()))?;
        if !exists(&mut tx, pod_root.as_str()).await? {
            return Err(StoreError::NotFound(format!("no pod at {pod_root}")));
        }

        let current = fetch_resource(&mut tx, path).await?;
        if let Some(expected) = &req.expected {
            if current.as_ref().map(|r| &r.etag) != expected.as_ref() {
                return Err(StoreError::Changed);
            }
        }
        if current.is_none() {
            if let Some(twin) = req.path.toggled_slash() {
                if exists(&mut tx, twin.as_str()).await? {
                    return Err(StoreError::Conflict(format!("{twin} already exists")));
                }
            }
        }

        let mut events = Vec::new();
        let ancestors = match &req.auxiliary_of {
            Some(subject) => {
                if !exists(&mut tx, subject.as_str()).await? {
                    return Err(StoreError::NotFound(format!("{subject} does not exist")));
                }
                Vec::new()
            }
            None => req.path.ancestors_within_pod(),
        };
        // Intermediate containers, outermost first (server-put-patch-intermediate-containers).
        for ancestor in ancestors {
            if exists(&mut tx, ancestor.as_str()).await? {
                continue;
            }
            let twin = ancestor
                .toggled_slash()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default();
            if exists(&mut tx, &twin).await? {
                return Err(StoreError::Conflict(format!("{twin} is not a container")));
            }
            if !req.create_ancestors {
                return Err(StoreError::NotFound(format!(
                    "container {ancestor} does not exist"
                )));
            }
            let parent = ancestor.parent().map(|p| p.as_str().to_owned());
            let etag = new_etag();
            sqlx::query(
                "INSERT INTO resources (path, parent, kind, content_type, size, etag, modified_ms, created_ms) \
                 VALUES (?, ?, 'container', 'text/turtle', 0, ?, ?, ?)",
            )
            .bind(ancestor.as_str())
            .bind(&parent)
            .bind(&etag)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            events.push(self.event(
                ResourceEventKind::Create,
                ancestor.as_str(),
                None,
                Some(&etag),
                &req.actor,
            ));
            if let Some(parent) = parent {
                let state = touch_container(&mut tx, &parent, now).await?;
                events.push(self.event(
                    ResourceEventKind::Add,
                    ancestor.as_str(),
                    Some(&parent),
                    Some(&state),
                    &req.actor,
                ));
            }
        }

        let (inline, blob_key) = match &req.content {
            Content::Empty => (None, None),
            Content::Inline(b) => (Some(b.clone()), None),
            Content::Blob(k) => (None, Some(k.clone())),
        };
        let etag = new_etag();
        let size = i64::try_from(req.size).map_err(|_| StoreError::TooLarge {
            limit: i64::MAX as u64,
        })?;
        let parent = match req.auxiliary_of {
            Some(_) => None,
            None => req.path.parent().map(|p| p.as_str().to_owned()),
        };
        sqlx::query(
            "INSERT INTO resources (path, parent, kind, content_type, inline, blob_key, size, etag, modified_ms, created_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (path) DO UPDATE SET kind = excluded.kind, content_type = excluded.content_type, \
             inline = excluded.inline, blob_key = excluded.blob_key, size = excluded.size, etag = excluded.etag, \
             modified_ms = excluded.modified_ms",
        )
        .bind(path)
        .bind(&parent)
        .bind(req.kind.as_str())
        .bind(&req.content_type)
        .bind(inline)
        .bind(&blob_key)
        .bind(size)
        .bind(&etag)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if let Some(key) = &blob_key {
            sqlx::query("DELETE FROM pending_blobs WHERE blob_key = ?")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(Content::Blob(old)) = current.as_ref().map(|c| &c.content) {
            if blob_key.as_deref() != Some(old.as_str()) {
                mark_garbage(&mut tx, old).await?;
            }
        }

        let created = current.is_none();
        let mut main = self.event(
            if created {
                ResourceEventKind::Create
            } else {
                ResourceEventKind::Update
            },
            path,
            None,
            Some(&etag),
            &req.actor,
        );
        main.media_type = Some(req.content_type.clone());
        main.size = Some(req.size);
        events.push(main);
        if let Some(parent) = &parent {
            // The parent's listing shows this member's size and modification time, so even an
            // update changes the parent's representation and therefore its ETag.
            let state = touch_container(&mut tx, parent, now).await?;
            if created {
                events.push(self.event(
                    ResourceEventKind::Add,
                    path,
                    Some(parent),
                    Some(&state),
                    &req.actor,
                ));
            }
        }
        queue(&mut tx, &events).await?;
        tx.commit().await?;
        let resource = Resource {
            path: path.to_owned(),
            kind: req.kind,
            content_type: req.content_type,
            content: req.content,
            size: req.size,
            etag,
            modified_ms: now,
        };
        Ok((resource, created))
    }

    async fn delete(&self, req: DeleteRequest) -> Result<(), StoreError> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let path = req.path.as_str();
        let current = fetch_resource(&mut tx, path)
            .await?
            .ok_or_else(|| StoreError::NotFound(path.to_owned()))?;
        if let Some(expected) = &req.expected {
            if &current.etag != expected {
                return Err(StoreError::Changed);
            }
        }
        if current.kind == Kind::Container
            && sqlx::query("SELECT 1 FROM resources WHERE parent = ? LIMIT 1")
                .bind(path)
                .fetch_optional(&mut *tx)
                .await?
                .is_some()
        {
            return Err(StoreError::Conflict(format!(
                "container {path} is not empty"
            )));
        }
        // Auxiliary rows have no parent: they are nobody's member.
        let parent: Option<String> =
            sqlx::query_scalar("SELECT parent FROM resources WHERE path = ?")
                .bind(path)
                .fetch_optional(&mut *tx)
                .await?
                .flatten();
        sqlx::query("DELETE FROM resources WHERE path = ?")
            .bind(path)
            .execute(&mut *tx)
            .await?;
        if let Content::Blob(key) = &current.content {
            mark_garbage(&mut tx, key).await?;
        }
        // server-delete-remove-auxiliary-resource: auxiliaries go with their subject.
        for aux in &req.auxiliaries {
            if let Some(r) = fetch_resource(&mut tx, aux.as_str()).await? {
                sqlx::query("DELETE FROM resources WHERE path = ?")
                    .bind(aux.as_str())
                    .execute(&mut *tx)
                    .await?;
                if let Content::Blob(key) = &r.content {
                    mark_garbage(&mut tx, key).await?;
                }
            }
        }
        let mut events = vec![self.event(ResourceEventKind::Delete, path, None, None, &req.actor)];
        if let Some(parent) = parent {
            let state = touch_container(&mut tx, &parent, now_ms()).await?;
            events.push(self.event(
                ResourceEventKind::Remove,
                path,
                Some(&parent),
                Some(&state),
                &req.actor,
            ));
        }
        queue(&mut tx, &events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_pod(&self, name: &str, owner: Option<&str>) -> Result<Pod, StoreError> {
        let root = ResourcePath::parse(&format!("/{name}/"))
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
        if !root.is_pod_root() {
            return Err(StoreError::Conflict(format!(
                "{name:?} is not a valid pod name"
            )));
        }
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let now = now_ms();
        if exists(&mut tx, root.as_str()).await? || exists(&mut tx, &format!("/{name}")).await? {
            return Err(StoreError::Conflict(format!("pod {name} already exists")));
        }
        sqlx::query("INSERT INTO pods (name, owner, created_ms) VALUES (?, ?, ?)")
            .bind(name)
            .bind(owner)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let etag = new_etag();
        sqlx::query(
            "INSERT INTO resources (path, parent, kind, content_type, size, etag, modified_ms, created_ms) \
             VALUES (?, NULL, 'container', 'text/turtle', 0, ?, ?, ?)",
        )
        .bind(root.as_str())
        .bind(&etag)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        queue(
            &mut tx,
            &[self.event(
                ResourceEventKind::Create,
                root.as_str(),
                None,
                Some(&etag),
                &owner.map(str::to_owned),
            )],
        )
        .await?;
        tx.commit().await?;
        Ok(Pod {
            name: name.to_owned(),
            owner: owner.map(str::to_owned),
            created_ms: now,
        })
    }

    async fn get_pod(&self, name: &str) -> Result<Option<Pod>, StoreError> {
        let row = sqlx::query("SELECT name, owner, created_ms FROM pods WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| {
            Ok(Pod {
                name: r.try_get("name")?,
                owner: r.try_get("owner")?,
                created_ms: r.try_get("created_ms")?,
            })
        })
        .transpose()
    }

    async fn list_pods(&self) -> Result<Vec<Pod>, StoreError> {
        let rows = sqlx::query("SELECT name, owner, created_ms FROM pods ORDER BY name")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Pod {
                    name: r.try_get("name")?,
                    owner: r.try_get("owner")?,
                    created_ms: r.try_get("created_ms")?,
                })
            })
            .collect()
    }

    async fn register_pending_blob(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO pending_blobs (blob_key, created_ms) VALUES (?, ?)")
            .bind(key)
            .bind(now_ms())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn drop_pending_blob(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM pending_blobs WHERE blob_key = ?")
            .bind(key)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn garbage(&self, before_ms: i64, limit: u32) -> Result<Vec<String>, StoreError> {
        // A pending blob older than the grace period belongs to an upload that died; a
        // committed row never points to a pending key (the commit removes it), but check
        // anyway so a bug elsewhere cannot make GC delete live data.
        let rows = sqlx::query(
            "SELECT blob_key FROM (SELECT blob_key FROM garbage_blobs WHERE since_ms < ?1 \
             UNION SELECT blob_key FROM pending_blobs WHERE created_ms < ?1) g \
             WHERE NOT EXISTS (SELECT 1 FROM resources r WHERE r.blob_key = g.blob_key) LIMIT ?2",
        )
        .bind(before_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| r.try_get("blob_key").map_err(StoreError::from))
            .collect()
    }

    async fn forget_garbage(&self, keys: &[String]) -> Result<(), StoreError> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        for key in keys {
            sqlx::query("DELETE FROM garbage_blobs WHERE blob_key = ?")
                .bind(key)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM pending_blobs WHERE blob_key = ?")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn outbox_pending(&self, limit: u32) -> Result<Vec<(i64, Envelope)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, event_id, topic, key, payload FROM outbox WHERE sent_ms IS NULL ORDER BY id LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("event_id")?;
                Ok((
                    r.try_get("id")?,
                    Envelope {
                        id: Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                        topic: r.try_get("topic")?,
                        key: r.try_get("key")?,
                        payload: r.try_get("payload")?,
                    },
                ))
            })
            .collect()
    }

    async fn outbox_mark_sent(&self, ids: &[i64]) -> Result<(), StoreError> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let now = now_ms();
        for id in ids {
            sqlx::query("UPDATE outbox SET sent_ms = ? WHERE id = ?")
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
