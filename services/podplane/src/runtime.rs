//! What every mode shares: the storage service state from flags, the background workers
//! (outbox relay, blob GC), serving with graceful shutdown, and administrative store access.

use crate::cli::{AdminTarget, HttpArgs, S3Args};
use anyhow::Context;
use podplane_events::EventBus;
use podplane_storage::{AppState, StorageConfig};
use podplane_store::locate::{BlobUrl, MetadataUrl};
use podplane_store::{
    collect_garbage, run_relay, BlobStore, DiskBlobStore, MetadataStore, PgMetadataStore,
    PgSettings, S3BlobStore, S3Settings, SqliteMetadataStore,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Where the storage service points to the other services.
#[derive(Default)]
pub struct Peers {
    pub notifications_base_url: Option<String>,
    /// The provisioning service and its per-owner limit, for discovery.
    pub provision_base_url: Option<String>,
    pub max_pods_per_owner: Option<u32>,
    pub internal_secret: Option<String>,
}

pub fn storage_state(
    http: &HttpArgs,
    peers: Peers,
    meta: Arc<dyn MetadataStore>,
    blobs: Arc<dyn BlobStore>,
    replay: Arc<dyn podplane_auth::ReplayCache>,
) -> anyhow::Result<AppState> {
    let mut config = StorageConfig::new(&http.base_url());
    config.notifications_base_url = peers
        .notifications_base_url
        .map(|u| u.trim_end_matches('/').to_owned());
    config.provision_base_url = peers
        .provision_base_url
        .map(|u| u.trim_end_matches('/').to_owned());
    config.max_pods_per_owner = peers.max_pods_per_owner;
    config.internal_secret = peers.internal_secret.filter(|s| !s.is_empty());
    config.legacy_base_urls = http.legacy_base_urls.clone();
    config.max_body_bytes = http.max_body_bytes;
    config.default_quota_bytes = http.pod_quota_bytes;
    config.purge_batch_rows = http.purge_batch_rows.max(1);
    config.max_rdf_bytes = http.max_rdf_bytes;
    config.jsonld_context_allow = http.jsonld_context_allow.clone();
    config.rendered_cache_bytes = http.cache_bytes;
    config.open_access = http.auth.danger_no_access_control;
    config.audit = podplane_storage::audit::AuditMode::parse(&http.audit).unwrap_or_default();
    config.audit_queue = http.audit_queue;
    config.audit_share = f64::from(http.audit_read_share) / 100.0;
    let limits = &http.limits;
    config.limits = podplane_solid::limits::Limits {
        max_depth: limits.max_rdf_depth,
        max_expanded_bytes: limits.max_rdf_expanded_bytes,
        max_patterns: limits.max_patch_patterns,
        max_solutions: limits.max_patch_solutions,
        ..config.limits
    };
    config.patch_time_budget = Duration::from_millis(limits.patch_time_budget_ms);
    if let Some(jobs) = limits.cpu_jobs {
        config.cpu_jobs = jobs.max(1);
    }
    if config.open_access {
        tracing::warn!(
            "ACCESS CONTROL IS OFF (--danger-no-access-control): anyone who can reach this \
             server can read, change and delete every resource"
        );
    }
    let verifier = Arc::new(podplane_auth::Verifier::new(http.auth.config()?, replay));
    Ok(AppState::new(config, meta, blobs, verifier))
}

/// How often state figures (pools, backlogs) are sampled for /metrics.
const GAUGE_INTERVAL: Duration = Duration::from_secs(5);

/// Background work that stops when `stop` flips to true.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Workers {
    pub fn new() -> Self {
        Self {
            stop: watch::channel(false).0,
            tasks: Vec::new(),
        }
    }

    /// Runs `work` until it returns; it should return once the receiver turns true.
    pub fn spawn<F, Fut>(&mut self, work: F)
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.tasks.push(tokio::spawn(work(self.stop.subscribe())));
    }

    fn stopped(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.stop.subscribe();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    }

    /// The outbox relay: publishes committed events to `bus`, once `ready` (e.g. topics
    /// created) has completed.
    pub fn relay(
        &mut self,
        state: &AppState,
        bus: Arc<dyn EventBus>,
        ready: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let (meta, wake) = (state.meta.clone(), state.outbox_wake.clone());
        let (stopped_early, stopped) = (self.stopped(), self.stopped());
        self.tasks.push(tokio::spawn(async move {
            tokio::select! {
                _ = ready => run_relay(meta, bus, wake, Duration::from_secs(1), stopped).await,
                _ = stopped_early => {}
            }
        }));
    }

    /// Publishes the audit events of reads and refusals to `bus`.
    pub fn audit_tap(&mut self, state: &AppState, bus: Arc<dyn EventBus>) {
        let state = state.clone();
        self.spawn(move |stop| podplane_storage::audit::forward(state, bus, stop));
    }

    /// Blob garbage collection every `interval`, keeping garbage for `grace`.
    /// Converts documents stored by earlier versions (`podplane_storage::rebase`), once.
    pub fn rebase(&mut self, state: &AppState) {
        let state = state.clone();
        self.spawn(move |stop| podplane_storage::rebase::run(state, stop));
    }

    pub fn gc(&mut self, state: &AppState, http: &HttpArgs) {
        let (meta, blobs) = (state.meta.clone(), state.blobs.clone());
        let grace_ms = i64::try_from(http.gc_grace_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let interval = Duration::from_secs(http.gc_interval_secs.max(1));
        let import_grace_ms =
            i64::try_from(http.import_grace_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let stopped = self.stopped();
        self.tasks.push(tokio::spawn(async move {
            tokio::pin!(stopped);
            loop {
                let now_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
                if let Err(e) = meta.purge_proofs(now_ms).await {
                    tracing::warn!(error = %e, "purging expired DPoP proof ids failed; will retry");
                }
                let stalled = now_ms - import_grace_ms;
                if let Err(e) =
                    podplane_store::abandon_stalled_imports(meta.as_ref(), stalled).await
                {
                    tracing::warn!(error = %e, "abandoning stalled pod imports failed; will retry");
                }
                match collect_garbage(meta.as_ref(), blobs.as_ref(), grace_ms).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "blob garbage collected"),
                    Err(e) => {
                        tracing::warn!(error = %e, "blob garbage collection failed; will retry")
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = &mut stopped => return,
                }
            }
        }));
    }

    /// Storage's state figures for /metrics, sampled every few seconds: the database pool
    /// and how far the outbox relay is behind (every replica reports the shared outbox).
    pub fn gauges(&mut self, state: &AppState) {
        // The recorder first, or the first samples would go nowhere.
        podplane_telemetry::prometheus();
        let meta = state.meta.clone();
        let stopped = self.stopped();
        self.tasks.push(tokio::spawn(async move {
            tokio::pin!(stopped);
            loop {
                let pool = meta.pool_stats();
                podplane_telemetry::record_pool("storage", pool.size, pool.idle);
                match meta.outbox_backlog().await {
                    Ok(backlog) => {
                        metrics::gauge!(podplane_telemetry::OUTBOX_PENDING)
                            .set(backlog.pending as f64);
                        let age_ms = backlog
                            .oldest_created_ms
                            .map_or(0, |created| podplane_store::now_ms() - created);
                        metrics::gauge!(podplane_telemetry::OUTBOX_OLDEST_AGE)
                            .set(age_ms.max(0) as f64 / 1000.0);
                    }
                    Err(e) => tracing::debug!(error = %e, "reading the outbox backlog failed"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(GAUGE_INTERVAL) => {}
                    _ = &mut stopped => return,
                }
            }
        }));
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Serves `router` until SIGINT/SIGTERM (or stdin EOF when asked), draining in-flight
/// requests, then stops the workers.
pub async fn serve(
    http: &HttpArgs,
    router: axum::Router,
    workers: Workers,
    mode: &str,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(http.listen)
        .await
        .with_context(|| format!("binding {}", http.listen))?;
    // Each connection holds a descriptor; keep 256 for databases, blobs and fetches.
    let bound = crate::listener::descriptor_bound(256).unwrap_or(10_000);
    let max_connections = match http.max_connections {
        Some(n) if n > bound => {
            tracing::warn!(
                requested = n,
                bound,
                "--max-connections exceeds what the file-descriptor limit allows; using the bound"
            );
            bound
        }
        Some(n) => n,
        None => bound.min(10_000),
    }
    .max(1);
    let limits = crate::listener::ConnectionLimits {
        max_connections,
        header_read_timeout: Duration::from_secs(http.header_read_timeout_secs.max(1)),
        body_idle_timeout: Duration::from_secs(http.body_idle_timeout_secs.max(1)),
    };
    tracing::info!(listen = %listener.local_addr()?, base_url = %http.base_url(), max_connections, "podplane serving ({mode})");
    // Outermost, so a request's span covers every service's layers and handlers alike.
    let router = router.layer(axum::middleware::from_fn(podplane_telemetry::trace_http));
    crate::listener::serve(
        listener,
        router,
        limits,
        shutdown_signal(http.exit_on_stdin_eof),
    )
    .await
    .context("serving")?;
    workers.shutdown().await;
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
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {}, _ = stdin_eof => {} }
    tracing::info!("shutting down: draining in-flight requests");
}

/// The metadata store an administrative command works on, and the base URL for its events.
pub async fn admin_store(target: &AdminTarget) -> anyhow::Result<(Arc<dyn MetadataStore>, String)> {
    let base = target.base_url.trim_end_matches('/').to_owned();
    let url = match &target.database_url {
        Some(url) => url.parse()?,
        None => MetadataUrl::Sqlite(target.data.data_dir.join("metadata.sqlite")),
    };
    // A command needs a connection or two, and may run while the servers hold most of the
    // database's: it waits its turn rather than failing after the servers' 3 s.
    let pg = PgSettings {
        max_connections: 2,
        acquire_timeout: Duration::from_secs(30),
        ..PgSettings::new("")
    };
    let meta = open_metadata(&url, pg, &base, true).await?;
    Ok((meta, base))
}

/// Opens the metadata store `url` names. `pg`: pool settings, should it be PostgreSQL;
/// `migrate`: apply pending migrations (SQLite always does: one process owns the file).
pub async fn open_metadata(
    url: &MetadataUrl,
    pg: PgSettings,
    base_url: &str,
    migrate: bool,
) -> anyhow::Result<Arc<dyn MetadataStore>> {
    match url {
        MetadataUrl::Postgres(database) => {
            let store = PgMetadataStore::connect(
                &PgSettings {
                    url: database.clone(),
                    ..pg
                },
                base_url,
            )?;
            if migrate {
                migrate_when_ready(&store).await?;
            }
            Ok(Arc::new(store))
        }
        MetadataUrl::Sqlite(file) => {
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                tokio::fs::create_dir_all(dir)
                    .await
                    .with_context(|| format!("creating directory {}", dir.display()))?;
            }
            let store = SqliteMetadataStore::open(file, base_url)
                .await
                .with_context(|| format!("opening the metadata database {url}"))?;
            Ok(Arc::new(store))
        }
    }
}

/// Several replicas may start together: migrations take a lock, so one applies them and the
/// others find them applied. A database that is not up yet gets a short grace.
pub async fn migrate_when_ready(store: &PgMetadataStore) -> anyhow::Result<()> {
    let mut attempt = 0;
    loop {
        match store.migrate().await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 20 => {
                attempt += 1;
                tracing::warn!(error = %e, "database not ready for migrations; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e).context("applying the storage database schema"),
        }
    }
}

/// Opens the blob store `url` names.
pub async fn open_blobs(url: &BlobUrl, s3: &S3Args) -> anyhow::Result<Arc<dyn BlobStore>> {
    match url {
        BlobUrl::File(dir) => {
            Ok(Arc::new(DiskBlobStore::open(dir).await.with_context(
                || format!("opening the blob directory {url}"),
            )?))
        }
        BlobUrl::S3 { bucket, prefix } => {
            let mut settings = S3Settings::new(bucket);
            settings.prefix = prefix.clone();
            settings.endpoint = s3.s3_endpoint.clone();
            settings.path_style = s3.s3_path_style;
            settings.region = s3.s3_region.clone();
            Ok(Arc::new(S3BlobStore::connect(&settings).await))
        }
    }
}
