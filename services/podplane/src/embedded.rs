//! Embedded mode: every service in one process, no outside dependencies.

use crate::cli::ServeArgs;
use crate::runtime::{self, Workers};
use anyhow::Context;
use podplane_events::{EventBus, InProcessBus};
use podplane_store::locate::MetadataUrl;
use podplane_store::{CachedMetadataStore, MetadataStore, PgSettings};
use std::sync::Arc;

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let dir = &args.data.data_dir;
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("creating data directory {}", dir.display()))?;
    let base = args.http.base_url();
    let url = args.metadata_url()?;
    let store = runtime::open_metadata(&url, PgSettings::new(""), &base, true).await?;
    let meta: Arc<dyn MetadataStore> = match url {
        // This process is the only one that changes a SQLite file's rows, so rows can be
        // cached here; a PostgreSQL database may have other writers.
        MetadataUrl::Sqlite(_) => Arc::new(CachedMetadataStore::new(store, args.http.cache_bytes)),
        MetadataUrl::Postgres(_) => store,
    };
    let blobs = runtime::open_blobs(&args.blob_url(), &args.s3).await?;
    // One process: the replay cache can live in memory.
    let replay = Arc::new(podplane_auth::MemoryReplayCache::new(
        std::time::Duration::from_secs(180),
    ));
    let peers = runtime::Peers {
        // One origin: the notification routes sit beside the storage's.
        notifications_base_url: Some(base.clone()),
        provision_base_url: Some(base.clone()),
        max_pods_per_owner: Some(args.pods.max_pods_per_owner),
        internal_secret: None,
    };
    let state = runtime::storage_state(&args.http, peers, meta, blobs, replay)?;

    // The notifications service reads the events of this process's outbox relay, and asks
    // the storage state above who may read what.
    let notifications = crate::notifications::state(
        &args.http,
        args.notify.config(&base, &base),
        &crate::cli::sqlite_in(dir, "notifications.sqlite"),
        1,
        Arc::new(crate::notifications::InProcessAccess(state.clone())),
        Some(state.verifier.clone()),
    )
    .await?;
    // The provisioning service has pods made by the storage state above, in this process.
    let provision = crate::provision::state(
        args.pods.config(&base),
        &args.provision_database_url(),
        4,
        Arc::new(crate::provision::InProcessPods::of(&state)),
        &base,
        Some(state.verifier.clone()),
        &args.http,
    )
    .await?;
    // The audit service learns owners from the storage database of this process.
    let audit = crate::audit::state(
        &args.http,
        args.audit.config(&base, &base, &args.pods.admin_webids),
        &args.audit,
        &args.audit_database_url(),
        4,
        Arc::new(crate::audit::InProcessOwners(state.meta.clone())),
        Some(state.verifier.clone()),
    )
    .await?;
    let bus = InProcessBus::new(4096);
    let mut workers = Workers::new();
    let (intake, queue) = podplane_audit::workers::Intake::new();
    {
        let a = audit.clone();
        workers.spawn(move |stop| podplane_audit::workers::intake(a, queue, stop));
        let a = audit.clone();
        let every = crate::distributed::RETENTION_EVERY;
        workers.spawn(move |stop| podplane_audit::workers::retention(a, every, stop));
    }
    {
        let (n, b) = (notifications.clone(), bus.clone());
        workers.spawn(move |stop| podplane_notifications::workers::hub_from_bus(n, b, stop));
        let (n, b) = (notifications.clone(), bus.clone());
        workers.spawn(move |stop| podplane_notifications::workers::webhooks_from_bus(n, b, stop));
        let (n, b) = (notifications.clone(), bus.clone());
        workers.spawn(move |stop| podplane_notifications::workers::pods_from_bus(n, b, stop));
        let n = notifications.clone();
        let sweep = std::time::Duration::from_secs(args.notify.channel_sweep_secs.max(1));
        workers.spawn(move |stop| podplane_notifications::workers::sweep(n, sweep, stop));
    }
    {
        let p = provision.provisioner.clone();
        let after = args.pods.settle_after();
        workers.spawn(move |stop| podplane_provision::workers::settle(p, after, stop));
    }
    {
        let (s, b) = (state.clone(), bus.clone());
        let sweep = std::time::Duration::from_secs(args.http.gc_interval_secs.max(1));
        workers.spawn(move |stop| podplane_storage::purger::from_bus(s, b, sweep, stop));
    }
    let bus: Arc<dyn EventBus> = Arc::new(crate::audit::EmbeddedBus { bus, audit: intake });
    workers.audit_tap(&state, bus.clone());
    workers.relay(&state, bus, async {});
    workers.rebase(&state);
    workers.gc(&state, &args.http);
    workers.gauges(&state);
    let router = podplane_notifications::router(notifications)
        .merge(podplane_provision::router(provision))
        .merge(podplane_audit::router(audit))
        .merge(podplane_storage::router(state));
    runtime::serve(&args.http, router, workers, "embedded mode").await
}
