//! Loading a pod archive into this deployment, all or nothing.

use super::manifest::{self, PodManifest, ResourceManifest};
use super::{bad, entry_name, framing, io, Moved};
use crate::error::{ApiError, ApiResult};
use bytes::Bytes;
use futures_util::StreamExt;
use podplane_solid::limits::Limits;
use podplane_solid::path::ResourcePath;
use podplane_solid::rdf::{self, RdfFormat};
use podplane_solid::rebase;
use podplane_store::{
    AccessKind, BlobStore, Content, ImportedRow, Kind, MetadataStore, Pod, StoreError,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Rows committed per transaction.
const BATCH_ROWS: usize = 200;
/// Inline content held for one batch, at most.
const BATCH_BYTES: u64 = 4 * 1024 * 1024;
/// How often a running import says it is alive (servers abandon one silent for their grace).
const HEARTBEAT: Duration = Duration::from_secs(5);
const CHUNK: usize = 256 * 1024;
/// A manifest is a few lines.
const MAX_MANIFEST: u64 = 64 * 1024;

/// What the importing deployment stores how.
#[derive(Debug, Clone, Copy)]
pub struct ImportLimits {
    /// RDF documents up to this size are stored inline (`--inline-rdf-bytes` of storage).
    pub inline_rdf_bytes: u64,
    /// Largest RDF document accepted (each is parsed in memory to re-base it).
    pub max_rdf_bytes: u64,
}

/// Loads the archive read from `input` into the deployment serving `base_url`, as pod `name`
/// (default: the archive's); answers the pod's name and what moved. Nothing of the pod is
/// visible until it is whole; on any error the partial pod is abandoned (then purged) and the
/// error answered.
pub async fn import(
    meta: Arc<dyn MetadataStore>,
    blobs: Arc<dyn BlobStore>,
    base_url: &str,
    name: Option<&str>,
    limits: ImportLimits,
    input: &mut (impl AsyncRead + Unpin),
) -> ApiResult<(String, Moved)> {
    let server = rebase::root_of(base_url);
    let (entry, size) = framing::next_entry(input)
        .await
        .map_err(io)?
        .ok_or_else(|| ApiError::Archive("the archive is empty".into()))?;
    if entry != "pod.ttl" {
        return Err(ApiError::Archive(format!(
            "a pod archive starts with pod.ttl, not {entry}"
        )));
    }
    let pod_ttl = read_small(input, size).await?;
    // The name decides the root the manifest's relative IRIs resolve against.
    let probe = manifest::read_pod(&pod_ttl, &format!("{server}archive/")).map_err(bad)?;
    let name = name.unwrap_or(&probe.name).to_owned();
    podplane_solid::pod::check_name(&name)?;
    let root = format!("{server}{name}/");
    let pod = manifest::read_pod(&pod_ttl, &root).map_err(bad)?;
    let access = AccessKind::parse(&pod.access)
        .ok_or_else(|| ApiError::Archive(format!("unknown access control {:?}", pod.access)))?;
    meta.begin_import(&Pod {
        name: name.clone(),
        owner: pod.owner.clone(),
        access,
        created_ms: pod.created_ms,
        used_bytes: 0,
        quota_bytes: None,
    })
    .await?;
    let alive = {
        let (meta, name) = (meta.clone(), name.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                if let Err(e) = meta.import_rows(&name, Vec::new()).await {
                    tracing::warn!(error = %e, "the import's heartbeat failed");
                }
            }
        })
    };
    let loading = Loader {
        meta: meta.as_ref(),
        blobs: &blobs,
        server: &server,
        root: &root,
        name: &name,
        limits,
    };
    let result = loading.load(&pod, input).await;
    alive.abort();
    if result.is_err() {
        match meta.abandon_import(&name).await {
            Ok(_) => {
                tracing::info!(pod = %name, "import abandoned; the partial pod will be purged")
            }
            Err(e) => {
                tracing::warn!(pod = %name, error = %e, "could not abandon the import; servers will")
            }
        }
    }
    result.map(|moved| (name, moved))
}

async fn read_small(input: &mut (impl AsyncRead + Unpin), size: u64) -> ApiResult<Vec<u8>> {
    if size > MAX_MANIFEST {
        return Err(ApiError::Archive(format!(
            "a manifest of {size} bytes (at most {MAX_MANIFEST})"
        )));
    }
    read_exact(input, size).await
}

async fn read_exact(input: &mut (impl AsyncRead + Unpin), size: u64) -> ApiResult<Vec<u8>> {
    let mut bytes =
        vec![0; usize::try_from(size).map_err(|_| ApiError::Archive("entry too large".into()))?];
    input.read_exact(&mut bytes).await.map_err(io)?;
    framing::skip_padding(input, size).await.map_err(io)?;
    Ok(bytes)
}

struct Loader<'a> {
    meta: &'a dyn MetadataStore,
    blobs: &'a Arc<dyn BlobStore>,
    server: &'a str,
    root: &'a str,
    name: &'a str,
    limits: ImportLimits,
}

impl Loader<'_> {
    async fn load(
        &self,
        pod: &PodManifest,
        input: &mut (impl AsyncRead + Unpin),
    ) -> ApiResult<Moved> {
        let mut moved = Moved::default();
        let (mut batch, mut batch_bytes) = (Vec::new(), 0u64);
        let mut root_row = None;
        while let Some((entry, size)) = framing::next_entry(input).await.map_err(io)? {
            let n = moved.resources + 1;
            if entry != entry_name(n, "ttl") {
                return Err(ApiError::Archive(format!(
                    "expected {}, found {entry}",
                    entry_name(n, "ttl")
                )));
            }
            let described =
                manifest::read_resource(&read_small(input, size).await?, self.root).map_err(bad)?;
            moved.resources = n;
            // Binary content always has an entry (maybe empty); RDF only when not empty.
            let row = if described.kind == Kind::Binary || described.size > 0 {
                let (_, size) = framing::next_entry(input)
                    .await
                    .map_err(io)?
                    .filter(|(entry, _)| *entry == entry_name(n, "data"))
                    .ok_or_else(|| {
                        ApiError::Archive(format!("{} has no content entry", entry_name(n, "data")))
                    })?;
                moved.bytes += size;
                self.stored(described, input, size).await?
            } else {
                self.stored(described, &mut tokio::io::empty(), 0).await?
            };
            if let Content::Inline(bytes) = &row.content {
                batch_bytes += bytes.len() as u64;
            }
            self.keep(row, &mut batch, &mut root_row)?;
            if batch.len() >= BATCH_ROWS || batch_bytes >= BATCH_BYTES {
                self.meta
                    .import_rows(self.name, std::mem::take(&mut batch))
                    .await?;
                batch_bytes = 0;
            }
        }
        if !batch.is_empty() {
            self.meta.import_rows(self.name, batch).await?;
        }
        let root =
            root_row.ok_or_else(|| ApiError::Archive("the archive has no pod root".into()))?;
        self.meta
            .finish_import(self.name, root, pod.owner.as_deref())
            .await?;
        Ok(moved)
    }

    /// Holds the root for last; every other row joins the batch.
    fn keep(
        &self,
        row: ImportedRow,
        batch: &mut Vec<ImportedRow>,
        root: &mut Option<ImportedRow>,
    ) -> ApiResult<()> {
        if row.path == format!("/{}/", self.name) {
            if root.is_some() {
                return Err(ApiError::Archive("the pod root appears twice".into()));
            }
            *root = Some(row);
        } else {
            batch.push(row);
        }
        Ok(())
    }

    /// Stores one resource's content (`size` bytes from `input`) as this deployment keeps it.
    async fn stored(
        &self,
        described: ResourceManifest,
        input: &mut (impl AsyncRead + Unpin),
        size: u64,
    ) -> ApiResult<ImportedRow> {
        let path = format!("/{}/{}", self.name, described.relative);
        let parsed = ResourcePath::parse(&path)?;
        if parsed.pod() != Some(self.name) || parsed.as_str() != path {
            return Err(ApiError::Archive(format!(
                "{path} is not a path of the pod"
            )));
        }
        if size != described.size {
            return Err(ApiError::Archive(format!(
                "{path}: the manifest says {} bytes, the archive holds {size}",
                described.size
            )));
        }
        if (described.kind == Kind::Container) != parsed.is_container() {
            return Err(ApiError::Archive(format!(
                "{path}: a container's path ends with '/'"
            )));
        }
        let (content, stored_size) = match described.kind {
            Kind::Binary => (Content::Blob(self.stream_blob(input, size).await?), size),
            Kind::Rdf | Kind::Container if size == 0 => (Content::Empty, 0),
            Kind::Rdf | Kind::Container => {
                if size > self.limits.max_rdf_bytes {
                    return Err(ApiError::Archive(format!(
                        "{path}: an RDF document of {size} bytes (at most {})",
                        self.limits.max_rdf_bytes
                    )));
                }
                let document = read_exact(input, size).await?;
                let bytes = self.rebased(&path, &document)?;
                let len = bytes.len() as u64;
                if len <= self.limits.inline_rdf_bytes {
                    (Content::Inline(bytes), len)
                } else {
                    (Content::Blob(self.put_bytes(bytes).await?), len)
                }
            }
        };
        Ok(ImportedRow {
            path,
            kind: described.kind,
            content_type: described.content_type,
            content,
            size: stored_size,
            modified_ms: described.modified_ms,
            creator: described.creator,
        })
    }

    /// A document of the archive (relative to the pod) as this deployment stores it.
    fn rebased(&self, path: &str, document: &[u8]) -> ApiResult<Vec<u8>> {
        let iri = format!("{}{}", self.server.trim_end_matches('/'), path);
        let limits = Limits {
            max_expanded_bytes: u64::MAX,
            ..Limits::default()
        };
        let triples = rdf::parse(document, RdfFormat::Turtle, &iri, None, &limits)
            .map_err(|e| ApiError::Archive(format!("{path} does not parse: {e}")))?;
        Ok(rebase::stored_turtle(
            &triples,
            path,
            &[self.server.to_owned()],
        ))
    }

    async fn put_bytes(&self, bytes: Vec<u8>) -> ApiResult<String> {
        let body = futures_util::stream::once(async move { Ok(Bytes::from(bytes)) }).boxed();
        self.put(body, u64::MAX).await
    }

    /// Streams `size` bytes of `input` into a new blob, through a small bounded channel.
    async fn stream_blob(
        &self,
        input: &mut (impl AsyncRead + Unpin),
        size: u64,
    ) -> ApiResult<String> {
        let key = uuid::Uuid::now_v7().simple().to_string();
        self.meta.register_pending_blob(&key).await?;
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
        let put = {
            let (blobs, key, body) = (self.blobs.clone(), key.clone(), stream_of(rx));
            tokio::spawn(async move { blobs.put(&key, body, size).await })
        };
        let mut left = size;
        let mut failed = None;
        while left > 0 {
            let mut chunk = vec![0; CHUNK.min(usize::try_from(left).unwrap_or(CHUNK))];
            if let Err(e) = input.read_exact(&mut chunk).await {
                failed = Some(io(e));
                break;
            }
            left -= chunk.len() as u64;
            if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                break;
            }
        }
        drop(tx);
        let stored = put
            .await
            .map_err(|e| ApiError::Archive(format!("the upload failed: {e}")))?;
        if let Some(e) = failed {
            return Err(e);
        }
        match stored {
            Ok(n) if n == size => {}
            Ok(n) => {
                return Err(ApiError::Archive(format!("stored {n} bytes of {size}")));
            }
            Err(StoreError::TooLarge { .. }) => {
                return Err(ApiError::Archive("more content than announced".into()))
            }
            Err(e) => return Err(e.into()),
        }
        framing::skip_padding(input, size).await.map_err(io)?;
        Ok(key)
    }

    async fn put(&self, body: podplane_store::ByteStream, limit: u64) -> ApiResult<String> {
        let key = uuid::Uuid::now_v7().simple().to_string();
        self.meta.register_pending_blob(&key).await?;
        self.blobs.put(&key, body, limit).await?;
        Ok(key)
    }
}

fn stream_of(
    mut rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
) -> podplane_store::ByteStream {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}
