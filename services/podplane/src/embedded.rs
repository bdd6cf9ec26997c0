//! Embedded mode: every service in one process, no outside dependencies.

use crate::{DataArgs, ServeArgs};
use anyhow::{bail, Context};
use podplane_events::InProcessBus;
use podplane_storage::{AppState, StorageConfig};
use podplane_store::{
    collect_garbage, run_relay, CachedMetadataStore, DiskBlobStore, MetadataStore,
    SqliteMetadataStore,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

fn base_url(data: &DataArgs, default: impl FnOnce() -> String) -> String {
    data.base_url
        .clone()
        .unwrap_or_else(default)
        .trim_end_matches('/')
        .to_owned()
}

async fn open_meta(data: &DataArgs, base: &str) -> anyhow::Result<SqliteMetadataStore> {
    tokio::fs::create_dir_all(&data.data_dir)
        .await
        .with_context(|| format!("creating data directory {}", data.data_dir.display()))?;
    SqliteMetadataStore::open(&data.data_dir.join("metadata.sqlite"), base)
        .await
        .context("opening the metadata database")
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let base = base_url(&args.data, || format!("http://{}", args.listen));
    // This process is the only one that changes existing rows, so rows can be cached here.
    let sqlite: Arc<dyn MetadataStore> = Arc::new(open_meta(&args.data, &base).await?);
    let meta: Arc<dyn MetadataStore> = Arc::new(CachedMetadataStore::new(sqlite, args.cache_bytes));
    let blobs = Arc::new(DiskBlobStore::open(args.data.data_dir.join("blobs")).await?);
    let mut config = StorageConfig::new(&base);
    config.max_body_bytes = args.max_body_bytes;
    config.max_rdf_bytes = args.max_rdf_bytes;
    config.jsonld_context_allow = args.jsonld_context_allow.clone();
    config.rendered_cache_bytes = args.cache_bytes;
    let state = AppState::new(config, meta.clone(), blobs.clone());

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let bus = Arc::new(InProcessBus::new(4096));
    let relay = tokio::spawn(run_relay(
        meta.clone(),
        bus,
        state.outbox_wake.clone(),
        Duration::from_secs(1),
        stopped(stop_rx.clone()),
    ));
    let gc = {
        let (meta, blobs, mut rx) = (meta.clone(), blobs.clone(), stop_rx.clone());
        let grace_ms = i64::try_from(args.gc_grace_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let interval = Duration::from_secs(args.gc_interval_secs.max(1));
        tokio::spawn(async move {
            loop {
                match collect_garbage(meta.as_ref(), blobs.as_ref(), grace_ms).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "blob garbage collected"),
                    Err(e) => {
                        tracing::warn!(error = %e, "blob garbage collection failed; will retry")
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = rx.wait_for(|s| *s) => return,
                }
            }
        })
    };

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    tracing::info!(listen = %listener.local_addr()?, base_url = %base, "podplane serving (embedded mode)");
    axum::serve(listener, podplane_storage::router(state))
        .with_graceful_shutdown(shutdown_signal(args.exit_on_stdin_eof))
        .await
        .context("serving")?;
    let _ = stop_tx.send(true);
    let _ = tokio::join!(relay, gc);
    Ok(())
}

async fn shutdown_signal(on_stdin_eof: bool) {
    let stdin_eof = async {
        if !on_stdin_eof {
            return std::future::pending::<()>().await;
        }
        let mut sink = Vec::new();
        let _ = tokio::io::AsyncReadExt::read_to_end(&mut tokio::io::stdin(), &mut sink).await;
    };
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {}, _ = stdin_eof => {} }
    tracing::info!("shutting down: draining in-flight requests");
}

/// Pod names become the first path segment and, later, host names: keep them DNS-safe.
fn check_pod_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !matches!(name, "health" | "metrics");
    if !ok {
        bail!("invalid pod name {name:?}: use 1-63 lower-case letters, digits and '-', not starting or ending with '-'");
    }
    Ok(())
}

pub async fn create_pod(
    data: &DataArgs,
    name: &str,
    owner: Option<&str>,
) -> anyhow::Result<(String, String)> {
    check_pod_name(name)?;
    let base = base_url(data, || "http://127.0.0.1:3000".into());
    let meta = open_meta(data, &base).await?;
    let pod = meta.create_pod(name, owner).await?;
    Ok((pod.name, format!("{base}/{name}/")))
}

pub async fn list_pods(data: &DataArgs) -> anyhow::Result<Vec<(String, Option<String>)>> {
    let base = base_url(data, || "http://127.0.0.1:3000".into());
    let meta = open_meta(data, &base).await?;
    Ok(meta
        .list_pods()
        .await?
        .into_iter()
        .map(|p| (p.name, p.owner))
        .collect())
}
