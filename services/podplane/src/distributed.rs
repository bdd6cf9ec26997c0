//! Distributed mode: one stateless Pod Storage replica over PostgreSQL, S3 and Kafka. Nothing
//! lives in the replica: any number can run, and any can die at any time.

use crate::cli::{DatabaseArgs, NotificationsArgs, StorageArgs};
use crate::runtime::{self, Workers};
use anyhow::Context;
use podplane_events::{ensure_topics, KafkaBus, RESOURCE_TOPIC};
use podplane_store::{PgMetadataStore, PgSettings, S3BlobStore, S3Settings};
use std::sync::Arc;
use std::time::Duration;

fn pg(args: &DatabaseArgs, base_url: &str) -> anyhow::Result<PgMetadataStore> {
    let mut settings = PgSettings::new(&args.database_url);
    settings.max_connections = args.database_max_connections;
    settings.statement_timeout = Duration::from_millis(args.database_statement_timeout_ms);
    Ok(PgMetadataStore::connect(&settings, base_url)?)
}

/// `podplane migrate`.
pub async fn migrate(args: &DatabaseArgs) -> anyhow::Result<()> {
    pg(args, "")?
        .migrate()
        .await
        .context("applying the storage database schema")?;
    println!("storage database schema is up to date");
    Ok(())
}

pub async fn storage(args: StorageArgs) -> anyhow::Result<()> {
    let base = args.http.base_url();
    let meta = pg(&args.database, &base)?;
    if !args.no_migrate {
        // Several replicas may start together: migrations take a lock, so one applies them and
        // the others find them applied. A database that is not up yet gets a short grace.
        let mut attempt = 0;
        loop {
            match meta.migrate().await {
                Ok(()) => break,
                Err(e) if attempt < 20 => {
                    attempt += 1;
                    tracing::warn!(error = %e, "database not ready for migrations; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e).context("applying the storage database schema"),
            }
        }
    }
    let mut s3 = S3Settings::new(&args.s3_bucket);
    s3.prefix = args.s3_prefix.clone();
    s3.endpoint = args.s3_endpoint.clone();
    s3.path_style = args.s3_path_style;
    s3.region = args.s3_region.clone();
    let blobs = Arc::new(S3BlobStore::connect(&s3).await);
    let meta: Arc<dyn podplane_store::MetadataStore> = Arc::new(meta);
    // Replicas share the replay cache through the storage database.
    let replay = Arc::new(podplane_storage::access::StoreReplayCache(meta.clone()));
    let peers = runtime::Peers {
        notifications_base_url: args.notifications_base_url.clone(),
        internal_secret: args.internal_secret.clone(),
    };
    let state = runtime::storage_state(&args.http, peers, meta, blobs, replay)?;

    let kafka = args.kafka.config()?;
    let bus = Arc::new(KafkaBus::connect(&kafka)?);
    // Writes never wait for Kafka: the relay starts once the topics exist, and until then (or
    // during any broker outage) events wait in the outbox.
    let topics_ready = async move {
        loop {
            match ensure_topics(&kafka, &[RESOURCE_TOPIC]).await {
                Ok(()) => return,
                Err(e) => tracing::warn!(error = %e, "cannot create Kafka topics yet; retrying"),
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    };
    let mut workers = Workers::new();
    workers.relay(&state, bus, topics_ready);
    workers.gc(&state, &args.http);
    workers.gauges(&state);
    runtime::serve(
        &args.http,
        podplane_storage::router(state),
        workers,
        "distributed mode, storage",
    )
    .await
}

/// `podplane notifications`: one notifications replica.
pub async fn notifications(args: NotificationsArgs) -> anyhow::Result<()> {
    let base = args.http.base_url();
    let storage_base = args
        .storage_base_url
        .clone()
        .unwrap_or_else(|| base.clone());
    let storage_url = args
        .storage_url
        .clone()
        .unwrap_or_else(|| storage_base.clone());
    let access = Arc::new(podplane_notifications::StorageHttp::new(
        &storage_url,
        &args.internal_secret,
    ));
    // Replicas starting together race to migrate; the loser retries briefly.
    let mut attempt = 0;
    let state = loop {
        match crate::notifications::state(
            &args.http,
            args.notify.config(&base, &storage_base),
            &args.database_url,
            args.database_max_connections,
            access.clone(),
            None,
        )
        .await
        {
            Ok(state) => break state,
            Err(e) if attempt < 20 => {
                attempt += 1;
                tracing::warn!(error = %e, "notifications database not ready; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e),
        }
    };
    let kafka = args.kafka.config()?;
    // The topic must exist before its partitions can be tailed.
    loop {
        match ensure_topics(&kafka, &[RESOURCE_TOPIC]).await {
            Ok(()) => break,
            Err(e) => tracing::warn!(error = %e, "cannot create Kafka topics yet; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let mut workers = Workers::new();
    {
        let (s, b) = (state.clone(), kafka.clone());
        workers.spawn(move |stop| podplane_notifications::workers::hub_from_kafka(s, b, stop));
        let (s, b, g) = (state.clone(), kafka, args.kafka_consumer_group.clone());
        workers
            .spawn(move |stop| podplane_notifications::workers::webhooks_from_kafka(s, b, g, stop));
        let s = state.clone();
        let sweep = Duration::from_secs(args.notify.channel_sweep_secs.max(1));
        workers.spawn(move |stop| podplane_notifications::workers::sweep(s, sweep, stop));
    }
    runtime::serve(
        &args.http,
        podplane_notifications::standalone_router(state),
        workers,
        "distributed mode, notifications",
    )
    .await
}
