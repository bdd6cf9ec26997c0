//! The statements of one write on PostgreSQL, inside a transaction that holds the pod's lock
//! (`PgMetadataStore::begin`): what the engine's algorithms (`engine`, `pod_deletion`,
//! `pod_import`, `rewrite`) run over.

use crate::engine::{NewRow, WriteTx};
use crate::error::StoreError;
use crate::meta::*;
use podplane_events::Envelope;
use sqlx::{Postgres, Transaction};

pub(super) struct PgTx(pub(super) Transaction<'static, Postgres>);

#[async_trait::async_trait]
impl WriteTx for PgTx {
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
            .bind(pod.used_bytes)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn add_usage(&mut self, pod: &str, delta: i64) -> Result<(i64, Option<i64>), StoreError> {
        sqlx::query_as(sql!("add_usage"))
            .bind(pod)
            .bind(delta)
            .fetch_optional(&mut *self.0)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no pod named {pod}")))
    }

    async fn pod_deleted(&mut self, pod: &str) -> Result<Option<Option<i64>>, StoreError> {
        let row: Option<(Option<i64>,)> = sqlx::query_as(sql!("pod_deleted"))
            .bind(pod)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(row.map(|(deleted,)| deleted))
    }

    async fn tombstone_pod(&mut self, pod: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(sql!("tombstone_pod"))
            .bind(pod)
            .bind(now)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn take_rows(
        &mut self,
        from: &str,
        to: &str,
        limit: u32,
    ) -> Result<Vec<Option<String>>, StoreError> {
        let keys: Vec<(Option<String>,)> = sqlx::query_as(sql!("take_rows"))
            .bind(from)
            .bind(to)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.0)
            .await?;
        Ok(keys.into_iter().map(|(k,)| k).collect())
    }

    async fn has_rows(&mut self, from: &str, to: &str) -> Result<bool, StoreError> {
        let row = sqlx::query(sql!("has_rows"))
            .bind(from)
            .bind(to)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(row.is_some())
    }

    async fn remove_pod(&mut self, pod: &str) -> Result<(), StoreError> {
        sqlx::query(sql!("remove_pod"))
            .bind(pod)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn mark_importing(&mut self, pod: &str, since: Option<i64>) -> Result<(), StoreError> {
        sqlx::query(sql!("mark_importing"))
            .bind(pod)
            .bind(since)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn importing_since(&mut self, pod: &str) -> Result<Option<i64>, StoreError> {
        let since: Option<Option<i64>> = sqlx::query_scalar(sql!("importing_since"))
            .bind(pod)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(since.flatten())
    }
}
