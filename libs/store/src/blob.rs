//! Blob stores: immutable objects named by a key the metadata store hands out.

use crate::error::StoreError;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

pub type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

#[async_trait::async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Streams `body` to a new object `key`, failing with [`StoreError::TooLarge`] past `limit`
    /// bytes. On any error nothing is left behind under `key`. Returns the size written.
    async fn put(&self, key: &str, body: ByteStream, limit: u64) -> Result<u64, StoreError>;
    /// Streams the object, or one inclusive byte range of it.
    async fn get(
        &self,
        key: &str,
        range: Option<RangeInclusive<u64>>,
    ) -> Result<ByteStream, StoreError>;
    /// Removes the object; removing a missing object is not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// The whole stored content of a resource, for what the server itself reads (access control
/// documents, an RDF document to patch): small documents, never a client's download.
pub async fn read_content(
    blobs: &dyn BlobStore,
    content: &crate::meta::Content,
) -> Result<Bytes, StoreError> {
    use crate::meta::Content;
    match content {
        Content::Empty => Ok(Bytes::new()),
        Content::Inline(b) => Ok(Bytes::from(b.clone())),
        Content::Blob(key) => {
            let mut stream = blobs.get(key, None).await?;
            let mut all = Vec::new();
            while let Some(chunk) = stream.next().await {
                all.extend_from_slice(&chunk.map_err(io_unavailable)?);
            }
            Ok(all.into())
        }
    }
}

/// Blobs as files under a directory, fanned out over two levels so no directory grows huge.
pub struct DiskBlobStore {
    root: PathBuf,
}

impl DiskBlobStore {
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        tokio::fs::create_dir_all(&root)
            .await
            .map_err(io_unavailable)?;
        Ok(Self { root })
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, StoreError> {
        // Keys come from the metadata store, never from clients, but a key that could escape
        // the root would be a disaster, so check anyway.
        if key.len() < 8 || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(StoreError::Corrupt(format!("invalid blob key {key:?}")));
        }
        let n = key.len();
        Ok(self
            .root
            .join(&key[n - 2..])
            .join(&key[n - 4..n - 2])
            .join(key))
    }
}

fn io_unavailable(e: std::io::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

async fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    tokio::fs::File::open(dir)
        .await
        .map_err(io_unavailable)?
        .sync_all()
        .await
        .map_err(io_unavailable)
}

#[async_trait::async_trait]
impl BlobStore for DiskBlobStore {
    async fn put(&self, key: &str, mut body: ByteStream, limit: u64) -> Result<u64, StoreError> {
        let path = self.path_of(key)?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.root.clone());
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(io_unavailable)?;
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(io_unavailable)?;
        let result: Result<u64, StoreError> = async {
            let mut written: u64 = 0;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| StoreError::BodyFailed(e.to_string()))?;
                written += chunk.len() as u64;
                if written > limit {
                    return Err(StoreError::TooLarge { limit });
                }
                file.write_all(&chunk).await.map_err(io_unavailable)?;
            }
            // Durable before the metadata commit points at it: a client told "created" must
            // find its bytes after a power cut.
            file.sync_all().await.map_err(io_unavailable)?;
            sync_dir(&dir).await?;
            Ok(written)
        }
        .await;
        if result.is_err() {
            drop(file);
            let _ = tokio::fs::remove_file(&path).await;
        }
        result
    }

    async fn get(
        &self,
        key: &str,
        range: Option<RangeInclusive<u64>>,
    ) -> Result<ByteStream, StoreError> {
        let path = self.path_of(key)?;
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    StoreError::Corrupt(format!("blob {key} is missing"))
                }
                _ => io_unavailable(e),
            })?;
        let stream = match range {
            None => tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024).boxed(),
            Some(r) => {
                file.seek(std::io::SeekFrom::Start(*r.start()))
                    .await
                    .map_err(io_unavailable)?;
                let len = r.end() - r.start() + 1;
                tokio_util::io::ReaderStream::with_capacity(file.take(len), 64 * 1024).boxed()
            }
        };
        Ok(stream)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match tokio::fs::remove_file(self.path_of(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_unavailable(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The behaviour shared with S3 is in tests/blob_contract.rs; this is disk-only.
    #[tokio::test]
    async fn keys_cannot_escape_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = DiskBlobStore::open(dir.path()).await.unwrap();
        assert!(store.get("../../etc/passwd", None).await.is_err());
        assert!(store.delete("../x/../../y").await.is_err());
    }
}
