//! `podplane pod export` and `podplane pod import`: the stores a deployment uses, opened as an
//! administrative command does, and the archive streamed to or from a file or the standard
//! streams (`podplane_storage::archive` does the work).

use crate::cli::AdminTarget;
use crate::runtime;
use anyhow::Context;
use podplane_storage::archive::{self, ImportLimits};
use podplane_storage::StorageConfig;
use std::path::Path;
use tokio::io::{AsyncWriteExt, BufReader, BufWriter};

pub async fn export(target: &AdminTarget, name: &str, output: Option<&Path>) -> anyhow::Result<()> {
    let (meta, base) = runtime::admin_store(target).await?;
    let blobs = runtime::open_blobs(&target.blob_url(), &target.s3).await?;
    let moved = match output {
        None => {
            let mut out = BufWriter::new(tokio::io::stdout());
            let moved =
                archive::export(meta.as_ref(), blobs.as_ref(), &base, name, &mut out).await?;
            out.flush().await?;
            moved
        }
        Some(path) => {
            // Complete or absent: a failed export leaves no file that looks like an archive.
            let partial = path.with_extension("partial");
            let file = tokio::fs::File::create(&partial)
                .await
                .with_context(|| format!("creating {}", partial.display()))?;
            let mut out = BufWriter::new(file);
            let written =
                archive::export(meta.as_ref(), blobs.as_ref(), &base, name, &mut out).await;
            let moved = match written {
                Ok(moved) => moved,
                Err(e) => {
                    let _ = tokio::fs::remove_file(&partial).await;
                    return Err(e.into());
                }
            };
            out.flush().await?;
            out.into_inner().sync_all().await?;
            tokio::fs::rename(&partial, path).await?;
            moved
        }
    };
    eprintln!(
        "exported pod {name}: {} resources, {} bytes of content",
        moved.resources, moved.bytes
    );
    Ok(())
}

pub async fn import(
    target: &AdminTarget,
    input: Option<&Path>,
    name: Option<&str>,
) -> anyhow::Result<()> {
    let (meta, base) = runtime::admin_store(target).await?;
    let blobs = runtime::open_blobs(&target.blob_url(), &target.s3).await?;
    let defaults = StorageConfig::new(&base);
    let limits = ImportLimits {
        inline_rdf_bytes: defaults.inline_rdf_bytes,
        max_rdf_bytes: defaults.max_rdf_bytes,
    };
    let (name, moved) = match input {
        None => {
            let mut stdin = BufReader::new(tokio::io::stdin());
            archive::import(meta, blobs, &base, name, limits, &mut stdin).await?
        }
        Some(path) => {
            let file = tokio::fs::File::open(path)
                .await
                .with_context(|| format!("opening {}", path.display()))?;
            archive::import(meta, blobs, &base, name, limits, &mut BufReader::new(file)).await?
        }
    };
    eprintln!(
        "imported {} resources, {} bytes of content, at {base}/{name}/",
        moved.resources, moved.bytes
    );
    Ok(())
}
