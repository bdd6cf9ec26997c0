//! Distributed mode: one stateless Pod Storage replica over PostgreSQL, S3 and Kafka. Nothing
//! lives in the replica: any number can run, and any can die at any time.

use crate::cli::{AuditArgs, DatabaseArgs, NotificationsArgs, ProvisionArgs, StorageArgs};
use crate::runtime::{self, Workers};
use podplane_events::{ensure_topics, KafkaBus, AUDIT_TOPIC, POD_TOPIC, RESOURCE_TOPIC};
use podplane_store::PgSettings;
use std::sync::Arc;
use std::time::Duration;

fn pool(args: &DatabaseArgs) -> PgSettings {
    PgSettings {
        max_connections: args.database_max_connections,
        statement_timeout: Duration::from_millis(args.database_statement_timeout_ms),
        ..PgSettings::new("")
    }
}

/// `podplane migrate`.
pub async fn migrate(args: &DatabaseArgs) -> anyhow::Result<()> {
    runtime::open_metadata(&args.database_url()?, pool(args), "", true).await?;
    println!("storage database schema is up to date");
    Ok(())
}

pub async fn storage(args: StorageArgs) -> anyhow::Result<()> {
    let base = args.http.base_url();
    let migrate = !args.no_migrate;
    let meta = runtime::open_metadata(
        &args.database.database_url()?,
        pool(&args.database),
        &base,
        migrate,
    )
    .await?;
    let blobs = runtime::open_blobs(&args.blob_url()?, &args.s3).await?;
    // Replicas share the replay cache through the storage database.
    let replay = Arc::new(podplane_storage::access::StoreReplayCache(meta.clone()));
    let peers = runtime::Peers {
        notifications_base_url: args.notifications_base_url.clone(),
        provision_base_url: args.provision_base_url.clone(),
        max_pods_per_owner: Some(args.max_pods_per_owner),
        internal_secret: args.internal_secret.clone(),
    };
    let state = runtime::storage_state(&args.http, peers, meta, blobs, replay)?;

    let kafka = args.kafka.config()?;
    let bus = Arc::new(KafkaBus::connect(&kafka)?);
    // Writes never wait for Kafka: the relay starts once the topics exist, and until then (or
    // during any broker outage) events wait in the outbox.
    let purger_kafka = kafka.clone();
    let topics_ready = async move {
        loop {
            match ensure_topics(&kafka, &[RESOURCE_TOPIC, POD_TOPIC, AUDIT_TOPIC]).await {
                Ok(()) => return,
                Err(e) => tracing::warn!(error = %e, "cannot create Kafka topics yet; retrying"),
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    };
    let mut workers = Workers::new();
    // Read and refusal events go straight to the bus, dropped rather than queued while it
    // is down; until the topic exists the producer holds them briefly, then drops them.
    workers.audit_tap(&state, bus.clone());
    workers.relay(&state, bus, topics_ready);
    {
        // The purger's consumer waits for the pod topic like any consumer of a topic that
        // does not exist yet.
        let (s, g) = (state.clone(), args.kafka_consumer_group.clone());
        workers.spawn(move |stop| podplane_storage::purger::from_kafka(s, purger_kafka, g, stop));
    }
    workers.rebase(&state);
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

/// Opens a service's state with `open`, retrying for a while: replicas starting together race
/// to migrate their database (the loser retries), and a database may come up a little later.
async fn opened<T, F, Fut>(what: &str, open: F) -> anyhow::Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut attempt = 0;
    loop {
        match open().await {
            Ok(state) => return Ok(state),
            Err(e) if attempt < 20 => {
                attempt += 1;
                tracing::warn!(error = %e, "{what} database not ready; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// `podplane notifications`: one notifications replica.
pub async fn notifications(args: NotificationsArgs) -> anyhow::Result<()> {
    let base = args.http.base_url();
    let (storage_base, storage_url) = args.storage.addresses(&base);
    let access = Arc::new(podplane_notifications::StorageHttp::new(
        &storage_url,
        &args.storage.internal_secret,
    ));
    let state = opened("notifications", || {
        crate::notifications::state(
            &args.http,
            args.notify.config(&base, &storage_base),
            &args.database_url,
            args.database_max_connections,
            access.clone(),
            None,
        )
    })
    .await?;
    let kafka = args.kafka.config()?;
    // The topic must exist before its partitions can be tailed.
    loop {
        match ensure_topics(&kafka, &[RESOURCE_TOPIC, POD_TOPIC]).await {
            Ok(()) => break,
            Err(e) => tracing::warn!(error = %e, "cannot create Kafka topics yet; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let mut workers = Workers::new();
    {
        let (s, b) = (state.clone(), kafka.clone());
        workers.spawn(move |stop| podplane_notifications::workers::hub_from_kafka(s, b, stop));
        let (s, b, g) = (
            state.clone(),
            kafka.clone(),
            args.kafka_consumer_group.clone(),
        );
        workers
            .spawn(move |stop| podplane_notifications::workers::webhooks_from_kafka(s, b, g, stop));
        // Another group than the webhooks': each reads every pod event once.
        let (s, g) = (state.clone(), format!("{}-pods", args.kafka_consumer_group));
        workers
            .spawn(move |stop| podplane_notifications::workers::pods_from_kafka(s, kafka, g, stop));
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

/// `podplane provision`: one provisioning replica. It keeps no state of its own but its
/// database; pods are made by the storage service over its internal endpoint.
pub async fn provision(args: ProvisionArgs) -> anyhow::Result<()> {
    let base = args.http.base_url();
    let (storage_base, storage_url) = args.storage.addresses(&base);
    let storage = Arc::new(podplane_provision::StorageHttp::new(
        &storage_url,
        &args.storage.internal_secret,
    ));
    let state = opened("provisioning", || {
        crate::provision::state(
            args.pods.config(&base),
            &args.database_url,
            args.database_max_connections,
            storage.clone(),
            &storage_base,
            None,
            &args.http,
        )
    })
    .await?;
    let mut workers = Workers::new();
    let p = state.provisioner.clone();
    let after = args.pods.settle_after();
    workers.spawn(move |stop| podplane_provision::workers::settle(p, after, stop));
    runtime::serve(
        &args.http,
        podplane_provision::standalone_router(state),
        workers,
        "distributed mode, provision",
    )
    .await
}

/// `podplane audit`: one audit replica. Replicas share the consumer group (each event is
/// stored once) and the database.
pub async fn audit(args: AuditArgs) -> anyhow::Result<()> {
    let base = args.http.base_url();
    let (storage_base, storage_url) = args.storage.addresses(&base);
    let owners = Arc::new(podplane_audit::StorageHttp::new(
        &storage_url,
        &args.storage.internal_secret,
    ));
    let state = opened("audit", || {
        crate::audit::state(
            &args.http,
            args.audit.config(&base, &storage_base, &args.admin_webids),
            &args.audit,
            &args.database_url,
            args.database_max_connections,
            owners.clone(),
            None,
        )
    })
    .await?;
    let kafka = args.kafka.config()?;
    let mut workers = Workers::new();
    {
        let (s, g) = (state.clone(), args.kafka_consumer_group.clone());
        workers.spawn(move |stop| podplane_audit::workers::from_kafka(s, kafka, g, stop));
        let s = state.clone();
        workers.spawn(move |stop| podplane_audit::workers::retention(s, RETENTION_EVERY, stop));
    }
    runtime::serve(
        &args.http,
        podplane_audit::standalone_router(state),
        workers,
        "distributed mode, audit",
    )
    .await
}

/// How often events past retention are looked for.
pub const RETENTION_EVERY: Duration = Duration::from_secs(3600);
