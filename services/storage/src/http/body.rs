//! Request bodies: streamed for content, buffered (with a limit) for RDF and patches.

use crate::error::{ApiError, ApiResult};
use axum::body::Body;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use podplane_store::{ByteStream, StoreError};

/// What a body error says when the body-idle timeout fired (the blob stores keep only the
/// message; this one maps back to 408).
pub const STALLED: &str = "the request body stopped arriving";

pub fn stream(body: Body) -> ByteStream {
    body.into_data_stream().map_err(io_error).boxed()
}

/// A body error as the blob stores see it: the body-idle timeout becomes [`STALLED`].
fn io_error(e: axum::Error) -> std::io::Error {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(c) = cause {
        if c.is::<tower_http::timeout::TimeoutError>() {
            return std::io::Error::new(std::io::ErrorKind::TimedOut, STALLED);
        }
        cause = c.source();
    }
    std::io::Error::other(e)
}

/// The error for a body that failed while it was read.
pub fn failed(message: String) -> ApiError {
    if message == STALLED {
        ApiError::RequestTimeout
    } else {
        ApiError::Store(StoreError::BodyFailed(message))
    }
}

/// Reads a whole body into memory, refusing more than `limit` bytes (413) without reading on.
pub async fn read_limited(body: Body, limit: u64) -> ApiResult<Bytes> {
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| failed(io_error(e).to_string()))?;
        if (buf.len() + chunk.len()) as u64 > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buf))
}
