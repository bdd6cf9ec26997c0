//! Blobs in S3 (or any S3-compatible server): distributed mode's content store.
//!
//! Uploads stream: small bodies go up in one PutObject, larger ones as a multipart upload whose
//! parts are sent as the request body arrives (one part buffered at a time) and which is
//! aborted if the body fails or exceeds its limit, so no half object is ever left under a key.

use crate::blob::{BlobStore, ByteStream};
use crate::error::StoreError;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream as S3Body;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use std::ops::RangeInclusive;
use std::time::Duration;

/// Where blobs go and how to reach it. Credentials come from the standard AWS provider chain
/// (environment, profile, ECS task role, EKS IRSA web identity, instance metadata).
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// Prepended to every key (`podplane/blobs/`), so one bucket can serve several deployments.
    pub prefix: String,
    /// Custom endpoint for S3-compatible servers (`http://127.0.0.1:3900`).
    pub endpoint: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), which most S3-compatible servers need.
    pub path_style: bool,
    pub region: Option<String>,
    /// Bodies up to this size are one PutObject; larger ones are multipart with parts this big.
    pub part_size: usize,
}

impl S3Settings {
    pub fn new(bucket: &str) -> Self {
        Self {
            bucket: bucket.to_owned(),
            prefix: String::new(),
            endpoint: None,
            path_style: false,
            region: None,
            part_size: 8 * 1024 * 1024,
        }
    }
}

pub struct S3BlobStore {
    client: Client,
    bucket: String,
    prefix: String,
    part_size: usize,
}

fn unavailable<E: std::error::Error + 'static>(e: SdkError<E>) -> StoreError {
    StoreError::Unavailable(format!("S3: {}", DisplayErrorContext(&e)))
}

impl S3BlobStore {
    pub async fn connect(settings: &S3Settings) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let shared = loader.load().await;
        let timeouts = aws_sdk_s3::config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .build();
        let mut config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(settings.path_style)
            .timeout_config(timeouts);
        if let Some(endpoint) = &settings.endpoint {
            config = config.endpoint_url(endpoint);
        }
        Self {
            client: Client::from_conf(config.build()),
            bucket: settings.bucket.clone(),
            prefix: settings.prefix.clone(),
            part_size: settings.part_size.max(5 * 1024 * 1024),
        }
    }

    fn object(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Whether the bucket answers (readiness).
    pub async fn check(&self) -> Result<(), StoreError> {
        self.client
            .head_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn put_single(&self, key: &str, body: Bytes) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.object(key))
            .body(S3Body::from(body))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Streams the rest of the body as parts; `first` is the already buffered first part.
    async fn put_multipart(
        &self,
        key: &str,
        first: Bytes,
        body: &mut ByteStream,
        written: &mut u64,
        limit: u64,
    ) -> Result<(), StoreError> {
        let object = self.object(key);
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(&object)
            .send()
            .await
            .map_err(unavailable)?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| StoreError::Unavailable("S3 returned no upload id".into()))?
            .to_owned();
        let result = async {
            let mut parts = Vec::new();
            let mut next = Some(first);
            let mut buffer = BytesMut::with_capacity(self.part_size);
            let mut done = false;
            while let Some(part) = next.take() {
                let number =
                    i32::try_from(parts.len() + 1).map_err(|_| StoreError::TooLarge { limit })?;
                let sent = self
                    .client
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(&object)
                    .upload_id(&upload_id)
                    .part_number(number)
                    .body(S3Body::from(part))
                    .send()
                    .await
                    .map_err(unavailable)?;
                parts.push(
                    CompletedPart::builder()
                        .set_e_tag(sent.e_tag().map(str::to_owned))
                        .part_number(number)
                        .build(),
                );
                while !done && buffer.len() < self.part_size {
                    match body.next().await {
                        Some(chunk) => {
                            let chunk = chunk.map_err(|e| StoreError::BodyFailed(e.to_string()))?;
                            *written += chunk.len() as u64;
                            if *written > limit {
                                return Err(StoreError::TooLarge { limit });
                            }
                            buffer.extend_from_slice(&chunk);
                        }
                        None => done = true,
                    }
                }
                if !buffer.is_empty() {
                    next = Some(buffer.split().freeze());
                }
            }
            self.client
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(&object)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map_err(unavailable)?;
            Ok(())
        }
        .await;
        if result.is_err() {
            let abort = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(&object)
                .upload_id(&upload_id);
            if let Err(e) = abort.send().await {
                tracing::warn!(error = %DisplayErrorContext(&e), %object, "could not abort a multipart upload");
            }
        }
        result
    }
}

#[async_trait::async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, key: &str, mut body: ByteStream, limit: u64) -> Result<u64, StoreError> {
        let mut buffer = BytesMut::with_capacity(64 * 1024);
        let mut written: u64 = 0;
        while buffer.len() < self.part_size {
            match body.next().await {
                Some(chunk) => {
                    let chunk = chunk.map_err(|e| StoreError::BodyFailed(e.to_string()))?;
                    written += chunk.len() as u64;
                    if written > limit {
                        return Err(StoreError::TooLarge { limit });
                    }
                    buffer.extend_from_slice(&chunk);
                }
                None => {
                    self.put_single(key, buffer.freeze()).await?;
                    return Ok(written);
                }
            }
        }
        self.put_multipart(key, buffer.freeze(), &mut body, &mut written, limit)
            .await?;
        Ok(written)
    }

    async fn get(
        &self,
        key: &str,
        range: Option<RangeInclusive<u64>>,
    ) -> Result<ByteStream, StoreError> {
        let mut request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.object(key));
        if let Some(r) = range {
            request = request.range(format!("bytes={}-{}", r.start(), r.end()));
        }
        let object = request.send().await.map_err(|e| match e.code() {
            Some("NoSuchKey") => StoreError::Corrupt(format!("blob {key} is missing")),
            _ => unavailable(e),
        })?;
        let reader = object.body.into_async_read();
        Ok(tokio_util::io::ReaderStream::with_capacity(reader, 64 * 1024).boxed())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        // DeleteObject succeeds for a missing key, as the trait asks.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.object(key))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
