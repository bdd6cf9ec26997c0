//! Writing one pod's archive.

use super::manifest::{self, PodManifest, ResourceManifest};
use super::{entry_name, framing, io, Moved};
use crate::error::{ApiError, ApiResult};
use futures_util::StreamExt;
use podplane_solid::limits::Limits;
use podplane_solid::rdf::{self, RdfFormat};
use podplane_solid::rebase;
use podplane_store::{BlobStore, Content, Kind, MetadataStore, Resource};
use tokio::io::{AsyncWrite, AsyncWriteExt};

const BATCH: u32 = 200;

/// Writes pod `name` of the deployment serving `base_url` to `out`.
pub async fn export(
    meta: &dyn MetadataStore,
    blobs: &dyn BlobStore,
    base_url: &str,
    name: &str,
    out: &mut (impl AsyncWrite + Unpin),
) -> ApiResult<Moved> {
    podplane_solid::pod::check_name(name)?;
    let pod = meta
        .get_pod(name)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no pod named {name}")))?;
    let server = rebase::root_of(base_url);
    let root = format!("{server}{name}/");
    let described = PodManifest {
        name: name.to_owned(),
        exported_from: root.clone(),
        owner: pod.owner.clone(),
        access: pod.access.as_str().to_owned(),
        created_ms: pod.created_ms,
    };
    let now = podplane_store::now_ms();
    framing::entry(out, "pod.ttl", &manifest::write_pod(&described, &root), now)
        .await
        .map_err(io)?;
    let mut moved = Moved::default();
    // Every path of the pod sorts after "/{name}." and before "/{name}0" (names have no '.').
    let (mut after, before) = (format!("/{name}."), format!("/{name}0"));
    loop {
        let rows = meta.scan(&after, &before, BATCH).await?;
        let Some(last) = rows.last().map(|r| r.path.clone()) else {
            break;
        };
        for row in &rows {
            moved.resources += 1;
            moved.bytes += write_resource(blobs, &server, &root, row, moved.resources, out).await?;
        }
        after = last;
    }
    framing::end(out).await.map_err(io)?;
    Ok(moved)
}

/// One resource's manifest and content; answers the content's size.
async fn write_resource(
    blobs: &dyn BlobStore,
    server: &str,
    root: &str,
    row: &Resource,
    n: u64,
    out: &mut (impl AsyncWrite + Unpin),
) -> ApiResult<u64> {
    let relative = row
        .path
        .trim_start_matches('/')
        .split_once('/')
        .map_or("", |(_, rest)| rest)
        .to_owned();
    let mut described = ResourceManifest {
        relative,
        kind: row.kind,
        content_type: row.content_type.clone(),
        size: row.size,
        modified_ms: row.modified_ms,
        creator: row.creator.clone(),
    };
    let meta_name = entry_name(n, "ttl");
    let data_name = entry_name(n, "data");
    if row.kind == Kind::Binary {
        let Content::Blob(key) = &row.content else {
            return Err(ApiError::Archive(format!("{} has no content", row.path)));
        };
        let manifest_bytes = manifest::write_resource(&described, root);
        framing::entry(out, &meta_name, &manifest_bytes, row.modified_ms)
            .await
            .map_err(io)?;
        framing::start_entry(out, &data_name, row.size, row.modified_ms)
            .await
            .map_err(io)?;
        let mut stream = blobs.get(key, None).await?;
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(io)?;
            written += chunk.len() as u64;
            if written > row.size {
                break;
            }
            out.write_all(&chunk).await.map_err(io)?;
        }
        if written != row.size {
            return Err(ApiError::Archive(format!(
                "{} holds {written} bytes, not the {} its row says",
                row.path, row.size
            )));
        }
        framing::finish_entry(out, row.size).await.map_err(io)?;
        return Ok(row.size);
    }
    // RDF: stored relative to the server's namespace; the archive relative to the pod.
    let stored = podplane_store::read_content(blobs, &row.content).await?;
    let document = if stored.is_empty() {
        Vec::new()
    } else {
        let iri = format!("{}{}", server.trim_end_matches('/'), row.path);
        let limits = Limits {
            max_expanded_bytes: u64::MAX,
            ..Limits::default()
        };
        let triples = rdf::parse(&stored, RdfFormat::Turtle, &iri, None, &limits)
            .map_err(|e| ApiError::Archive(format!("{} does not parse: {e}", row.path)))?;
        // Inside the pod relative to the document; elsewhere (other pods too) absolute.
        rebase::stored_turtle(&triples, &described.relative, &[root.to_owned()])
    };
    described.size = document.len() as u64;
    let manifest_bytes = manifest::write_resource(&described, root);
    framing::entry(out, &meta_name, &manifest_bytes, row.modified_ms)
        .await
        .map_err(io)?;
    if !document.is_empty() {
        framing::entry(out, &data_name, &document, row.modified_ms)
            .await
            .map_err(io)?;
    }
    Ok(described.size)
}
