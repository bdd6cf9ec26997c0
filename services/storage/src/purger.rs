//! The purger: removes the rows and blobs of deleted pods (`podplane_store::purge_pod`), in
//! batches, acting on `pod-deleted` events. Distributed mode: one Kafka consumer group for all
//! storage replicas, so each deletion is purged by one of them, and an event's offset is
//! committed only once its purge finished (a replica killed mid-purge leaves the event to the
//! next member, which resumes where the database says). Embedded mode: the in-process bus,
//! which holds no history, so every pod still marked deleted is also purged at start and
//! every `sweep` interval.

use crate::AppState;
use podplane_events::{
    consume, EventError, InProcessBus, KafkaConfig, PodEvent, PodEventKind, POD_TOPIC,
};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

/// The storage replicas' default consumer group for pod events.
pub const PURGER_GROUP: &str = "podplane-storage-purger";

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn purge(state: &AppState, name: &str) -> Result<(), podplane_store::StoreError> {
    podplane_store::purge_pod(
        state.meta.as_ref(),
        state.blobs.as_ref(),
        name,
        state.config.purge_batch_rows,
    )
    .await?;
    // `pod-purged` waits in the outbox.
    state.outbox_wake.notify_one();
    Ok(())
}

async fn sweep_once(state: &AppState) {
    match podplane_store::purge_deleted_pods(
        state.meta.as_ref(),
        state.blobs.as_ref(),
        state.config.purge_batch_rows,
    )
    .await
    {
        Ok(0) => {}
        Ok(n) => {
            state.outbox_wake.notify_one();
            tracing::info!(pods = n, "deleted pods purged");
        }
        Err(e) => tracing::warn!(error = %e, "purging deleted pods failed; will retry"),
    }
}

/// Embedded mode: purges each pod as its `pod-deleted` event is published in this process,
/// and every pod left deleted (by a crash, or by `podplane pod delete` from another process)
/// at start and every `sweep`.
pub async fn from_bus(
    state: AppState,
    bus: InProcessBus,
    sweep: Duration,
    stop: watch::Receiver<bool>,
) {
    let mut rx = bus.subscribe();
    let stop = stopped(stop);
    tokio::pin!(stop);
    sweep_once(&state).await;
    loop {
        let got = tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(sweep) => {
                sweep_once(&state).await;
                continue;
            }
            got = rx.recv() => got,
        };
        match got {
            Ok(envelope) => {
                let Some(event) = PodEvent::of(&envelope) else {
                    continue;
                };
                if event.kind == PodEventKind::PodDeleted {
                    if let Err(e) = purge(&state, &event.pod).await {
                        tracing::warn!(pod = %event.pod, error = %e, "purge failed; will retry");
                    }
                }
            }
            // The sweep finds whatever was missed.
            Err(RecvError::Lagged(_)) => sweep_once(&state).await,
            Err(RecvError::Closed) => return,
        }
    }
}

/// Distributed mode: the pod topic as consumer group `group` (by default [`PURGER_GROUP`]). A
/// failed purge stops the consumer without committing; it starts again and the event comes
/// back.
pub async fn from_kafka(
    state: AppState,
    kafka: KafkaConfig,
    group: String,
    stop: watch::Receiver<bool>,
) {
    loop {
        let result = consume(
            &kafka,
            &group,
            &[POD_TOPIC],
            |envelope| {
                let state = state.clone();
                async move {
                    let Some(event) = PodEvent::of(&envelope) else {
                        return Ok(());
                    };
                    if event.kind != PodEventKind::PodDeleted {
                        return Ok(());
                    }
                    purge(&state, &event.pod)
                        .await
                        .map_err(|e| EventError::Unavailable(format!("purging {}: {e}", event.pod)))
                }
            },
            stopped(stop.clone()),
        )
        .await;
        if *stop.borrow() {
            return;
        }
        if let Err(e) = result {
            tracing::warn!(error = %e, "purging deleted pods stopped; resuming");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
