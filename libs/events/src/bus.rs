use crate::types::Envelope;
use tokio::sync::broadcast;

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
}

/// Carries envelopes from the outbox relay to consumers. Implementations: in-process
/// (embedded mode) and Kafka (distributed mode).
#[async_trait::async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Publishes one envelope; returns only once the bus has accepted it.
    async fn publish(&self, envelope: &Envelope) -> Result<(), EventError>;
}

/// A broadcast channel: every subscriber sees every envelope published after it subscribed.
/// Slow subscribers that fall more than `capacity` behind lose the oldest envelopes and are
/// told so by `RecvError::Lagged`; the outbox keeps the durable record.
#[derive(Clone)]
pub struct InProcessBus {
    sender: broadcast::Sender<Envelope>,
}

impl InProcessBus {
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity);
        Self { sender }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Envelope> {
        self.sender.subscribe()
    }
}

#[async_trait::async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, envelope: &Envelope) -> Result<(), EventError> {
        // No subscribers is not an error: nothing is listening in this process yet.
        let _ = self.sender.send(envelope.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[tokio::test]
    async fn subscribers_receive_published_envelopes() {
        let bus = InProcessBus::new(8);
        let mut rx = bus.subscribe();
        let env = Envelope {
            id: Uuid::new_v4(),
            topic: "t".into(),
            key: "k".into(),
            payload: b"{}".to_vec(),
            traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
        };
        bus.publish(&env).await.unwrap();
        assert_eq!(rx.recv().await.unwrap(), env);
    }
}
