//! The statements of one write on SQLite, on the writer thread inside its group's transaction:
//! what the engine's algorithms (`engine`, `pod_deletion`, `pod_import`, `rewrite`) run over.

use crate::engine::{NewRow, WriteTx};
use crate::error::StoreError;
use crate::meta::*;
use podplane_events::Envelope;
use rusqlite::{params, Connection, OptionalExtension};

/// The statements of one write, on the writer thread inside its group's transaction. Each
/// call completes before it returns (see [`crate::sqlite_group::now`]).
pub(crate) struct SqliteTx<'c>(pub(super) &'c mut Connection);

impl SqliteTx<'_> {
    pub(super) fn execute(
        &mut self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<usize, StoreError> {
        Ok(self.0.prepare_cached(sql)?.execute(params)?)
    }

    pub(super) fn found(&mut self, sql: &str, path: &str) -> Result<bool, StoreError> {
        Ok(self.0.prepare_cached(sql)?.exists([path])?)
    }
}

#[async_trait::async_trait]
impl WriteTx for SqliteTx<'_> {
    async fn resource(&mut self, path: &str) -> Result<Option<Resource>, StoreError> {
        self.0
            .prepare_cached(sql!("resource"))?
            .query_row([path], |row| Ok(crate::rows::resource(row)))
            .optional()?
            .transpose()
    }

    async fn exists(&mut self, path: &str) -> Result<bool, StoreError> {
        self.found(sql!("exists"), path)
    }

    async fn has_children(&mut self, path: &str) -> Result<bool, StoreError> {
        self.found(sql!("has_children"), path)
    }

    async fn parent_of(&mut self, path: &str) -> Result<Option<String>, StoreError> {
        let parent: Option<Option<String>> = self
            .0
            .prepare_cached(sql!("parent_of"))?
            .query_row([path], |row| row.get(0))
            .optional()?;
        Ok(parent.flatten())
    }

    async fn upsert(&mut self, row: &NewRow<'_>) -> Result<(), StoreError> {
        self.execute(
            sql!("upsert"),
            params![
                row.path,
                row.parent,
                row.kind.as_str(),
                row.content_type,
                row.inline,
                row.blob_key,
                row.size,
                row.etag,
                row.now,
                row.creator,
            ],
        )?;
        Ok(())
    }

    async fn set_version(&mut self, path: &str, etag: &str, now: i64) -> Result<(), StoreError> {
        self.execute(sql!("set_version"), params![etag, now, path])?;
        Ok(())
    }

    async fn delete_row(&mut self, path: &str) -> Result<(), StoreError> {
        self.execute(sql!("delete_row"), [path])?;
        Ok(())
    }

    async fn unpend_blob(&mut self, key: &str) -> Result<bool, StoreError> {
        Ok(self.execute(sql!("drop_pending_blob"), [key])? == 1)
    }

    async fn mark_garbage(&mut self, key: &str, now: i64) -> Result<(), StoreError> {
        self.execute(sql!("mark_garbage"), params![key, now])?;
        Ok(())
    }

    async fn enqueue(&mut self, env: &Envelope, now: i64) -> Result<(), StoreError> {
        self.execute(
            sql!("enqueue"),
            params![
                env.id.to_string(),
                env.topic,
                env.key,
                env.payload,
                now,
                env.traceparent,
            ],
        )?;
        Ok(())
    }

    async fn insert_pod(&mut self, pod: &Pod) -> Result<(), StoreError> {
        self.execute(
            sql!("insert_pod"),
            params![
                pod.name,
                pod.owner,
                pod.access.as_str(),
                pod.created_ms,
                pod.used_bytes
            ],
        )?;
        Ok(())
    }

    async fn add_usage(&mut self, pod: &str, delta: i64) -> Result<(i64, Option<i64>), StoreError> {
        self.0
            .prepare_cached(sql!("add_usage"))?
            .query_row(params![pod, delta], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("no pod named {pod}")))
    }

    async fn pod_deleted(&mut self, pod: &str) -> Result<Option<Option<i64>>, StoreError> {
        Ok(self
            .0
            .prepare_cached(sql!("pod_deleted"))?
            .query_row([pod], |row| row.get(0))
            .optional()?)
    }

    async fn tombstone_pod(&mut self, pod: &str, now: i64) -> Result<(), StoreError> {
        self.execute(sql!("tombstone_pod"), params![pod, now])?;
        Ok(())
    }

    async fn take_rows(
        &mut self,
        from: &str,
        to: &str,
        limit: u32,
    ) -> Result<Vec<Option<String>>, StoreError> {
        let mut statement = self.0.prepare_cached(sql!("take_rows"))?;
        let keys = statement
            .query_map(params![from, to, limit], |row| row.get(0))?
            .collect::<Result<Vec<Option<String>>, _>>()?;
        Ok(keys)
    }

    async fn has_rows(&mut self, from: &str, to: &str) -> Result<bool, StoreError> {
        Ok(self
            .0
            .prepare_cached(sql!("has_rows"))?
            .exists(params![from, to])?)
    }

    async fn remove_pod(&mut self, pod: &str) -> Result<(), StoreError> {
        self.execute(sql!("remove_pod"), [pod])?;
        Ok(())
    }

    async fn mark_importing(&mut self, pod: &str, since: Option<i64>) -> Result<(), StoreError> {
        self.execute(sql!("mark_importing"), params![pod, since])?;
        Ok(())
    }

    async fn importing_since(&mut self, pod: &str) -> Result<Option<i64>, StoreError> {
        let since: Option<Option<i64>> = self
            .0
            .prepare_cached(sql!("importing_since"))?
            .query_row([pod], |row| row.get(0))
            .optional()?;
        Ok(since.flatten())
    }
}
