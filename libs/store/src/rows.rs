//! Row-to-model mappings shared by the SQLite and PostgreSQL engines: both schemas use the
//! same column names and types, so one mapping over [`Columns`] serves every driver (sqlx's
//! rows for reads and PostgreSQL, rusqlite's for the SQLite writer). This is the one place a
//! resource's columns are named: the statements (`sql/<engine>/`) select `*` and the mapping
//! reads columns by name, so a new column touches the migrations and this file.

use crate::error::StoreError;
use crate::meta::{ChildRow, Content, Kind, Pod, Resource};
use podplane_events::Envelope;
use podplane_solid::access::AccessKind;
use uuid::Uuid;

/// A result row of any driver, read by column name.
pub(crate) trait Columns {
    fn get<T: Column>(&self, name: &str) -> Result<T, StoreError>;
}

/// The column types the mappings read; each is a type every driver decodes.
pub(crate) trait Column:
    for<'r> sqlx::Decode<'r, sqlx::Sqlite>
    + sqlx::Type<sqlx::Sqlite>
    + for<'r> sqlx::Decode<'r, sqlx::Postgres>
    + sqlx::Type<sqlx::Postgres>
    + rusqlite::types::FromSql
{
}

impl Column for String {}
impl Column for Option<String> {}
impl Column for i64 {}
impl Column for Option<i64> {}
impl Column for Vec<u8> {}
impl Column for Option<Vec<u8>> {}

impl Columns for sqlx::sqlite::SqliteRow {
    fn get<T: Column>(&self, name: &str) -> Result<T, StoreError> {
        sqlx::Row::try_get(self, name).map_err(StoreError::from)
    }
}

impl Columns for sqlx::postgres::PgRow {
    fn get<T: Column>(&self, name: &str) -> Result<T, StoreError> {
        sqlx::Row::try_get(self, name).map_err(StoreError::from)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn get<T: Column>(&self, name: &str) -> Result<T, StoreError> {
        rusqlite::Row::get(self, name).map_err(StoreError::from)
    }
}

fn get<T: Column>(row: &impl Columns, column: &str) -> Result<T, StoreError> {
    row.get(column)
}

pub(crate) fn resource(row: &impl Columns) -> Result<Resource, StoreError> {
    let inline: Option<Vec<u8>> = get(row, "inline")?;
    let blob: Option<String> = get(row, "blob_key")?;
    let content = match (inline, blob) {
        (Some(bytes), _) => Content::Inline(bytes),
        (None, Some(key)) => Content::Blob(key),
        (None, None) => Content::Empty,
    };
    Ok(Resource {
        path: get(row, "path")?,
        kind: Kind::parse(&get::<String>(row, "kind")?)?,
        content_type: get(row, "content_type")?,
        content,
        size: u64::try_from(get::<i64>(row, "size")?).unwrap_or(0),
        etag: get(row, "etag")?,
        modified_ms: get(row, "modified_ms")?,
        creator: get(row, "created_by")?,
    })
}

pub(crate) fn child(row: &impl Columns) -> Result<ChildRow, StoreError> {
    Ok(ChildRow {
        path: get(row, "path")?,
        kind: Kind::parse(&get::<String>(row, "kind")?)?,
        content_type: get(row, "content_type")?,
        size: u64::try_from(get::<i64>(row, "size")?).unwrap_or(0),
        modified_ms: get(row, "modified_ms")?,
    })
}

pub(crate) fn pod(row: &impl Columns) -> Result<Pod, StoreError> {
    Ok(Pod {
        name: get(row, "name")?,
        owner: get(row, "owner")?,
        access: {
            let raw: String = get(row, "access")?;
            AccessKind::parse(&raw)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown access kind {raw}")))?
        },
        created_ms: get(row, "created_ms")?,
        used_bytes: get(row, "used_bytes")?,
        quota_bytes: get(row, "quota_bytes")?,
    })
}

/// An outbox row as (row id, envelope), naming the server by `base_url` (rows name it by
/// `outbox::STORED_BASE`).
pub(crate) fn envelope(row: &impl Columns, base_url: &str) -> Result<(i64, Envelope), StoreError> {
    use crate::outbox::{rebased, STORED_BASE};
    let id: String = get(row, "event_id")?;
    let key: String = get(row, "key")?;
    let payload: Vec<u8> = get(row, "payload")?;
    let payload = match String::from_utf8(payload) {
        Ok(json) => rebased(&json, base_url).into_bytes(),
        Err(e) => e.into_bytes(),
    };
    let key = match key.strip_prefix(STORED_BASE) {
        Some(rest) => format!("{base_url}{rest}"),
        None => key,
    };
    Ok((
        get(row, "id")?,
        Envelope {
            id: Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            topic: get(row, "topic")?,
            key,
            payload,
            traceparent: get(row, "traceparent")?,
        },
    ))
}
