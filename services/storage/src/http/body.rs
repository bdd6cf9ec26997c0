//! Request bodies: streamed for content, buffered (with a limit) for RDF and patches.

use crate::error::{ApiError, ApiResult};
use axum::body::Body;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use podplane_store::{ByteStream, StoreError};

pub fn stream(body: Body) -> ByteStream {
    body.into_data_stream()
        .map_err(std::io::Error::other)
        .boxed()
}

/// Reads a whole body into memory, refusing more than `limit` bytes (413) without reading on.
pub async fn read_limited(body: Body, limit: u64) -> ApiResult<Bytes> {
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::Store(StoreError::BodyFailed(e.to_string())))?;
        if (buf.len() + chunk.len()) as u64 > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}
