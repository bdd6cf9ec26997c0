//! Row-to-model mappings shared by the SQLite and PostgreSQL engines: both schemas use the
//! same column names and types, so one generic mapping over `sqlx::Row` serves both. This is
//! the one place a resource's columns are named: the statements (`sql/<engine>/`) select `*`
//! and the mapping reads columns by name, so a new column touches the migrations and this file.

use crate::error::StoreError;
use crate::meta::{ChildRow, Content, Kind, Pod, Resource};
use podplane_events::Envelope;
use podplane_solid::access::AccessKind;
use sqlx::{ColumnIndex, Decode, Row, Type};
use uuid::Uuid;

fn get<'r, R, T>(row: &'r R, column: &str) -> Result<T, StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    T: Decode<'r, R::Database> + Type<R::Database>,
{
    row.try_get(column).map_err(StoreError::from)
}

pub(crate) fn resource<R>(row: &R) -> Result<Resource, StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    for<'r> Option<Vec<u8>>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let inline: Option<Vec<u8>> = get(row, "inline")?;
    let blob: Option<String> = get(row, "blob_key")?;
    let content = match (inline, blob) {
        (Some(bytes), _) => Content::Inline(bytes),
        (None, Some(key)) => Content::Blob(key),
        (None, None) => Content::Empty,
    };
    Ok(Resource {
        path: get(row, "path")?,
        kind: Kind::parse(&get::<R, String>(row, "kind")?)?,
        content_type: get(row, "content_type")?,
        content,
        size: u64::try_from(get::<R, i64>(row, "size")?).unwrap_or(0),
        etag: get(row, "etag")?,
        modified_ms: get(row, "modified_ms")?,
        creator: get(row, "created_by")?,
    })
}

pub(crate) fn child<R>(row: &R) -> Result<ChildRow, StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(ChildRow {
        path: get(row, "path")?,
        kind: Kind::parse(&get::<R, String>(row, "kind")?)?,
        content_type: get(row, "content_type")?,
        size: u64::try_from(get::<R, i64>(row, "size")?).unwrap_or(0),
        modified_ms: get(row, "modified_ms")?,
    })
}

pub(crate) fn pod<R>(row: &R) -> Result<Pod, StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(Pod {
        name: get(row, "name")?,
        owner: get(row, "owner")?,
        access: {
            let raw: String = get(row, "access")?;
            AccessKind::parse(&raw)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown access kind {raw}")))?
        },
        created_ms: get(row, "created_ms")?,
    })
}

/// An outbox row as (row id, envelope).
pub(crate) fn envelope<R>(row: &R) -> Result<(i64, Envelope), StoreError>
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Option<String>: Decode<'r, R::Database> + Type<R::Database>,
{
    let id: String = get(row, "event_id")?;
    Ok((
        get(row, "id")?,
        Envelope {
            id: Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            topic: get(row, "topic")?,
            key: get(row, "key")?,
            payload: get(row, "payload")?,
            traceparent: get(row, "traceparent")?,
        },
    ))
}
