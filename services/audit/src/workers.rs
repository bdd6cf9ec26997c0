//! Background work of the audit service: taking events from the bus into the store (and on to
//! the sinks), and retention.

use crate::store::Incoming;
use crate::State;
use podplane_events::{consume, Envelope, EventBus, EventError, KafkaConfig, AUDIT_TOPIC};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Most events stored in one transaction.
const BATCH: usize = 1024;

/// Stores `incoming` (what is this service's: see [`crate::AuditConfig::keeps`]) and copies
/// what was new to the sinks.
async fn take(state: &State, mut incoming: Vec<Incoming>) -> Result<(), crate::AuditError> {
    incoming.retain(|i| state.config.keeps(&i.storage));
    if incoming.is_empty() {
        return Ok(());
    }
    let stored = state
        .store
        .record(&incoming, podplane_store::now_ms())
        .await?;
    state.sinks.forward(&stored).await;
    Ok(())
}

/// Distributed mode: consumes `podplane.audit.v1` in consumer group `group` until `stop`
/// turns true. An event's offset is stored only once it is committed to the database, so a
/// replica killed mid-batch leaves its events to be delivered again, and stored once.
pub async fn from_kafka(
    state: State,
    kafka: KafkaConfig,
    group: String,
    stop: watch::Receiver<bool>,
) {
    loop {
        let result = consume(
            &kafka,
            &group,
            &[AUDIT_TOPIC],
            |envelope| {
                let state = state.clone();
                async move {
                    let Some(incoming) = Incoming::parse(&envelope.payload) else {
                        tracing::warn!(id = %envelope.id, "skipping a message that is not an audit event");
                        return Ok(());
                    };
                    take(&state, vec![incoming])
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
            tracing::warn!(error = %e, "audit consumer stopped; restarting");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Embedded mode's way in: the outbox relay (and the read tap) of the same process publish
/// audit events here, and a publish returns once the event is committed to the audit
/// database, so the relay forgets an event only when it is stored (a crash between the two
/// makes the relay publish it again, and the store skips it by id). Events published at
/// about the same time are stored in one transaction by [`intake`].
#[derive(Clone)]
pub struct Intake {
    sender: mpsc::Sender<(Incoming, oneshot::Sender<Result<(), String>>)>,
}

/// The worker's end of an [`Intake`].
pub struct IntakeQueue(mpsc::Receiver<(Incoming, oneshot::Sender<Result<(), String>>)>);

impl Intake {
    pub fn new() -> (Intake, IntakeQueue) {
        let (sender, receiver) = mpsc::channel(BATCH * 4);
        (Intake { sender }, IntakeQueue(receiver))
    }
}

#[async_trait::async_trait]
impl EventBus for Intake {
    async fn publish(&self, envelope: &Envelope) -> Result<(), EventError> {
        let Some(incoming) = Incoming::parse(&envelope.payload) else {
            // Holding it would stop the relay for good; it cannot be stored.
            tracing::warn!(id = %envelope.id, "skipping a message that is not an audit event");
            return Ok(());
        };
        let (done, stored) = oneshot::channel();
        let gone = || EventError::Unavailable("the audit service has stopped".into());
        self.sender
            .send((incoming, done))
            .await
            .map_err(|_| gone())?;
        stored
            .await
            .map_err(|_| gone())?
            .map_err(EventError::Unavailable)
    }
}

/// Stores what the [`Intake`] receives, a batch per transaction, until `stop` turns true.
pub async fn intake(state: State, queue: IntakeQueue, mut stop: watch::Receiver<bool>) {
    let mut queue = queue.0;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            n = queue.recv_many(&mut batch, BATCH) => if n == 0 { return },
            _ = stop.wait_for(|s| *s) => return,
        }
        let (events, replies): (Vec<Incoming>, Vec<_>) = batch.drain(..).unzip();
        let result = take(&state, events).await.map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::warn!(error = %e, "storing audit events failed; the relay will retry");
        }
        for reply in replies {
            let _ = reply.send(result.clone());
        }
    }
}

/// Every `every`, removes events older than the retention period, until `stop`.
pub async fn retention(state: State, every: Duration, mut stop: watch::Receiver<bool>) {
    loop {
        if let Some(keep) = state.config.retention {
            let keep_ms = i64::try_from(keep.as_millis()).unwrap_or(i64::MAX);
            match state
                .store
                .prune(podplane_store::now_ms().saturating_sub(keep_ms))
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "audit events past retention removed"),
                Err(e) => tracing::warn!(error = %e, "audit retention failed; will retry"),
            }
        }
        if let Err(e) = state
            .store
            .purge_proofs(podplane_store::now_ms() / 1000)
            .await
        {
            tracing::debug!(error = %e, "purging expired DPoP proof ids failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}

async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
