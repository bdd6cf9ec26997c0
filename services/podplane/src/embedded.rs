//! Embedded mode: every service in one process, no outside dependencies.

use crate::cli::ServeArgs;
use crate::runtime::{self, Workers};
use anyhow::Context;
use podplane_events::InProcessBus;
use podplane_store::{CachedMetadataStore, DiskBlobStore, MetadataStore, SqliteMetadataStore};
use std::sync::Arc;

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let dir = &args.data.data_dir;
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("creating data directory {}", dir.display()))?;
    let sqlite = SqliteMetadataStore::open(&dir.join("metadata.sqlite"), &args.http.base_url())
        .await
        .context("opening the metadata database")?;
    // This process is the only one that changes existing rows, so rows can be cached here.
    let meta: Arc<dyn MetadataStore> = Arc::new(CachedMetadataStore::new(
        Arc::new(sqlite),
        args.http.cache_bytes,
    ));
    let blobs = Arc::new(DiskBlobStore::open(dir.join("blobs")).await?);
    // One process: the replay cache can live in memory.
    let replay = Arc::new(podplane_auth::MemoryReplayCache::new(
        std::time::Duration::from_secs(180),
    ));
    let state = runtime::storage_state(&args.http, meta, blobs, replay)?;

    let mut workers = Workers::new();
    workers.relay(&state, Arc::new(InProcessBus::new(4096)), async {});
    workers.gc(&state, &args.http);
    runtime::serve(
        &args.http,
        podplane_storage::router(state),
        workers,
        "embedded mode",
    )
    .await
}
