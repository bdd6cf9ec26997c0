//! The background work of the service: feeding events to the hub and to webhooks, from the
//! in-process bus (embedded mode) or Kafka (distributed mode), and sweeping channels that
//! ended or were deleted. Each worker runs until `stop` turns true.

use crate::{hub, now_ms, webhook, State};
use podplane_events::{
    consume, tail, Envelope, EventError, InProcessBus, KafkaConfig, PodEvent, PodEventKind,
    TailPositions, POD_TOPIC, RESOURCE_TOPIC,
};
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;

/// Most events dispatched together (their access questions are asked together).
const BATCH: usize = 512;

/// The resource events among `first` and whatever else the bus already holds for this
/// receiver, up to [`BATCH`] (the in-process bus carries every topic).
fn with_waiting(first: Envelope, rx: &mut broadcast::Receiver<Envelope>) -> Vec<Envelope> {
    let mut batch = vec![first];
    while batch.len() < BATCH {
        match rx.try_recv() {
            Ok(envelope) => batch.push(envelope),
            Err(_) => break,
        }
    }
    batch.retain(|e| e.topic == RESOURCE_TOPIC);
    batch
}

/// A pod was deleted: its channels end (see `ChannelStore::end_under`).
async fn on_pod_event(state: &State, envelope: &Envelope) -> Result<(), EventError> {
    let Some(event) = PodEvent::of(envelope) else {
        return Ok(());
    };
    if event.kind != PodEventKind::PodDeleted {
        return Ok(());
    }
    let ended = state
        .channels
        .end_under(&event.storage, now_ms())
        .await
        .map_err(|e| EventError::Unavailable(e.to_string()))?;
    if ended > 0 {
        tracing::info!(pod = %event.storage, ended, "channels of a deleted pod ended");
    }
    Ok(())
}

/// Embedded mode, pod events: every one published in this process.
pub async fn pods_from_bus(state: State, bus: InProcessBus, stop: watch::Receiver<bool>) {
    let mut rx = bus.subscribe();
    let stop = stopped(stop);
    tokio::pin!(stop);
    loop {
        let got = tokio::select! {
            _ = &mut stop => return,
            got = rx.recv() => got,
        };
        match got {
            Ok(envelope) => {
                if let Err(e) = on_pod_event(&state, &envelope).await {
                    tracing::warn!(error = %e, "a deleted pod's channels were not ended");
                }
            }
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "pod events fell behind the bus");
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Distributed mode, pod events: one consumer group for all replicas (the channels are in
/// the shared database; every replica's sweep closes its own connections).
pub async fn pods_from_kafka(
    state: State,
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
                async move { on_pod_event(&state, &envelope).await }
            },
            stopped(stop.clone()),
        )
        .await;
        if *stop.borrow() {
            return;
        }
        if let Err(e) = result {
            tracing::warn!(error = %e, "reading pod events failed; resuming");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Embedded mode, sockets and streams: every event published in this process.
pub async fn hub_from_bus(state: State, bus: InProcessBus, stop: watch::Receiver<bool>) {
    let mut rx = bus.subscribe();
    state.live_ready.store(true, Ordering::Release);
    let stop = stopped(stop);
    tokio::pin!(stop);
    loop {
        let first = tokio::select! {
            _ = &mut stop => return,
            got = rx.recv() => got,
        };
        match first {
            Ok(envelope) => {
                let batch = with_waiting(envelope, &mut rx);
                if !batch.is_empty() {
                    hub::dispatch(&state, &batch).await;
                }
            }
            Err(RecvError::Lagged(n)) => {
                metrics::counter!(hub::DROPPED).increment(n);
                tracing::warn!(missed = n, "notification dispatch fell behind the bus");
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Embedded mode, webhooks: every event published in this process, in batches of what is
/// waiting (one channel lookup per batch). (The in-process bus holds no history: a webhook
/// notification pending when the process stops is not resent.)
pub async fn webhooks_from_bus(state: State, bus: InProcessBus, stop: watch::Receiver<bool>) {
    let mut rx = bus.subscribe();
    let stop = stopped(stop);
    tokio::pin!(stop);
    loop {
        let first = tokio::select! {
            _ = &mut stop => return,
            got = rx.recv() => got,
        };
        match first {
            Ok(envelope) => {
                let batch = with_waiting(envelope, &mut rx);
                if batch.is_empty() {
                    continue;
                }
                if let Err(e) = webhook::deliver_all(&state, &batch).await {
                    tracing::warn!(error = %e, "webhook delivery not recorded");
                }
            }
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "webhook delivery fell behind the bus");
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Distributed mode, sockets and streams: every partition of the resource topic from now on,
/// outside any consumer group (every replica needs every event). Reconnects after failures.
pub async fn hub_from_kafka(state: State, kafka: KafkaConfig, stop: watch::Receiver<bool>) {
    // Kept across reconnections: after an outage the tail resumes where it stopped.
    let mut positions = TailPositions::new();
    loop {
        // Events for this replica's connections are handed over in order, one at a time.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let dispatcher = {
            let state = state.clone();
            tokio::spawn(async move {
                let mut batch = Vec::with_capacity(BATCH);
                while rx.recv_many(&mut batch, BATCH).await > 0 {
                    hub::dispatch(&state, &batch).await;
                    batch.clear();
                }
            })
        };
        let ready_state = state.clone();
        let result = tail(
            &kafka,
            RESOURCE_TOPIC,
            &mut positions,
            |envelope| {
                let _ = tx.send(envelope);
            },
            move || ready_state.live_ready.store(true, Ordering::Release),
            stopped(stop.clone()),
        )
        .await;
        drop(tx);
        let _ = dispatcher.await;
        if *stop.borrow() {
            return;
        }
        if let Err(e) = result {
            tracing::warn!(error = %e, "reading resource events failed; retrying");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Distributed mode, webhooks: one consumer group for all replicas, so each event is handled
/// once; its offset is committed only after every delivery of it was settled.
pub async fn webhooks_from_kafka(
    state: State,
    kafka: KafkaConfig,
    group: String,
    stop: watch::Receiver<bool>,
) {
    loop {
        let result = consume(
            &kafka,
            &group,
            &[RESOURCE_TOPIC],
            |envelope| {
                let state = state.clone();
                async move {
                    webhook::deliver(&state, &envelope)
                        .await
                        .map_err(|e| EventError::Unavailable(e.to_string()))
                }
            },
            stopped(stop.clone()),
        )
        .await;
        if *stop.borrow() {
            return;
        }
        if let Err(e) = result {
            tracing::warn!(error = %e, "webhook delivery stopped; resuming");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Every `interval`: closes connections whose channel ended or was deleted (by its owner on
/// any replica), removes ended channels and expired proof ids from the database, and samples
/// the database pool for /metrics.
pub async fn sweep(state: State, interval: Duration, stop: watch::Receiver<bool>) {
    let stop = stopped(stop);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(interval) => {}
        }
        state.channels.record_pool();
        let now = now_ms();
        let held = state.hub.channel_ids();
        match state.channels.live(&held, now).await {
            Ok(alive) => {
                let alive: HashSet<String> = alive.into_iter().collect();
                state.hub.close_unless(&alive, now);
            }
            Err(e) => tracing::warn!(error = %e, "cannot check channels; will retry"),
        }
        if let Err(e) = state.channels.purge(now).await {
            tracing::warn!(error = %e, "cannot purge ended channels; will retry");
        }
    }
}
